import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@nightshift/core';
import {
  compileRuntimeEntry, compileScheduleEntries, entryZone, jitterOffsetMs, nextFireTime, runtimeEntryInput,
} from '@nightshift/schedule';

const TASKS = ['reports.send', 'tokens.cleanup'];

function refused(input: unknown, field: string, message: RegExp): void {
  assert.throws(() => compileRuntimeEntry(input, TASKS), (error: unknown) => {
    assert.ok(error instanceof ConfigError, `a ConfigError, got ${String(error)}`);
    assert.equal(error.field, field);
    assert.match(error.message, message);
    return true;
  });
}

test('a runtime entry has every field of a code entry, plus its own zone, overlap, jitter and start and end', () => {
  const entry = compileRuntimeEntry({
    name: 'acme-report', task: 'reports.send', schedule: '0 9 * * *', args: ['acme'], kwargs: { format: 'pdf' }, queue: 'reports', expires: '1h',
    misfire: 'skip', timezone: 'America/New_York', overlap: 'skip', jitter: '30s', startAt: '2027-01-01T00:00:00Z', endAt: '2027-12-31T23:59:59+01:00',
  }, TASKS);
  assert.equal(entry.source, 'runtime');
  assert.equal(entry.timezone, 'America/New_York');
  assert.equal(entry.overlap, 'skip');
  assert.equal(entry.jitterMs, 30_000);
  assert.equal(entry.startAt, Date.parse('2027-01-01T00:00:00Z'));
  assert.equal(entry.endAt, Date.parse('2027-12-31T22:59:59Z'));
  assert.equal(entry.queue, 'reports');
  assert.equal(entry.expires, '1h');
  assert.equal(entryZone(entry, 'UTC'), 'America/New_York');
  // 09:00 in New York in January is 14:00 UTC
  assert.equal(new Date(nextFireTime(entry.schedule, Date.parse('2027-01-05T00:00:00Z'), entryZone(entry, 'UTC'))).toISOString(), '2027-01-05T14:00:00.000Z');
});

test('the JSON form of an entry compiles back to the same entry', () => {
  const inputs = [
    { name: 'a', task: 'reports.send', schedule: '*/5 * * * *' },
    { name: 'b', task: 'tokens.cleanup', schedule: { every: '90s', anchor: '2026-01-01T00:00:10.000Z' }, misfire: { policy: 'all', cap: 3, grace: '10m' }, overlap: 'buffer-one', jitter: '5s' },
    { name: 'c', task: 'reports.send', schedule: '0 9 * * mon-fri', timezone: 'Europe/Berlin', misfire: { policy: 'skip', grace: '1m' }, startAt: '2027-03-01T00:00:00.000Z', queue: 'q', expires: '10m', args: [1], kwargs: { k: true } },
  ];
  for (const input of inputs) {
    const entry = compileRuntimeEntry(input, TASKS);
    const again = compileRuntimeEntry(runtimeEntryInput(entry), TASKS);
    assert.deepEqual(again, entry, input.name);
  }
  assert.deepEqual(runtimeEntryInput(compileRuntimeEntry(inputs[0], TASKS)), { name: 'a', task: 'reports.send', schedule: '*/5 * * * *', args: [], kwargs: {}, misfire: 'once', overlap: 'allow' });
});

test('a bad runtime entry is refused naming its field', () => {
  const good = { name: 'r', task: 'reports.send', schedule: '0 9 * * *' };
  refused({ ...good, schedule: '0 0 30 feb *' }, 'schedule', /day 30 never occurs in February, so this schedule would never run/);
  refused({ ...good, schedule: '0 25 * * *' }, 'schedule', /hour "25"/);
  refused({ ...good, schedule: { cron: '* * * * *' } }, 'schedule', /cron string .* or \{ "every": "5m" \}/);
  refused({ ...good, timezone: 'Mars/Olympus' }, 'timezone', /unknown time zone "Mars\/Olympus"/);
  refused({ ...good, task: 'reports.nope' }, 'task', /task "reports.nope" is not one of the app's tasks/);
  refused({ ...good, name: 'has space' }, 'name', /letters, digits/);
  refused({ task: 'reports.send', schedule: '0 9 * * *' }, 'name', /name is missing/);
  refused({ ...good, overlap: 'queue' }, 'overlap', /'allow', 'skip', 'buffer-one'/);
  refused({ ...good, jitter: 'soon' }, 'jitter', /not a duration/);
  refused({ ...good, schedule: { every: '1m' }, jitter: '1m' }, 'jitter', /shorter than the interval/);
  refused({ ...good, startAt: '2027-01-01 09:00' }, 'startAt', /with Z or an offset/);
  refused({ ...good, startAt: '2027-02-01T00:00:00Z', endAt: '2027-01-01T00:00:00Z' }, 'endAt', /after startAt/);
  refused({ ...good, options: { queue: 'q' } }, 'options', /unknown field "options"/);
  refused({ ...good, queue: 'bad queue!' }, 'queue', /not a queue name/);
});

test('code entries take a zone, overlap, jitter and dates too', () => {
  const [entry] = compileScheduleEntries([{ name: 'n', task: 'reports.send', schedule: '0 2 * * *', timezone: 'Asia/Tokyo', overlap: 'skip', jitter: '2m' }], TASKS);
  assert.ok(entry);
  assert.equal(entry.source, 'code');
  assert.equal(entry.timezone, 'Asia/Tokyo');
  assert.equal(entry.overlap, 'skip');
  assert.equal(entry.jitterMs, 120_000);
  const [plain] = compileScheduleEntries([{ name: 'p', task: 'reports.send', schedule: '0 2 * * *' }], TASKS);
  assert.equal(plain?.timezone, undefined);
  assert.equal(plain?.overlap, 'allow');
  assert.equal(plain?.jitterMs, 0);
  assert.equal(entryZone(plain as never, 'Europe/Paris'), 'Europe/Paris');
});

test('jitter is a fixed offset per entry and fire time, spread over its window', () => {
  const fire = Date.parse('2027-01-05T09:00:00Z');
  assert.equal(jitterOffsetMs('tenant-1', fire, 30_000), jitterOffsetMs('tenant-1', fire, 30_000));
  assert.equal(jitterOffsetMs('tenant-1', fire, 0), 0);
  const offsets = Array.from({ length: 1000 }, (_, i) => jitterOffsetMs(`tenant-${i}`, fire, 30_000));
  assert.ok(offsets.every((ms) => Number.isInteger(ms) && ms >= 0 && ms < 30_000));
  const seconds = new Set(offsets.map((ms) => Math.floor(ms / 1000)));
  assert.ok(seconds.size >= 25, `1000 tenants spread over at least 25 of the 30 seconds (got ${seconds.size})`);
  assert.notEqual(jitterOffsetMs('tenant-1', fire, 30_000), jitterOffsetMs('tenant-1', fire + 86_400_000, 30_000));
});

test('alert: the dead man\'s switch is on by default; its tolerance, failure streaks and pausing are per entry', () => {
  const plain = compileRuntimeEntry({ name: 'p', task: 'reports.send', schedule: '0 9 * * *' }, TASKS);
  assert.deepEqual(plain.alert, { overdueAfterMs: 300_000, afterFailures: undefined, pauseAfterFailures: undefined });
  assert.equal(runtimeEntryInput(plain).alert, undefined);
  const tuned = compileRuntimeEntry({ name: 't', task: 'reports.send', schedule: '0 9 * * *', alert: { overdueAfter: '1h', afterFailures: 3, pauseAfterFailures: 5 } }, TASKS);
  assert.deepEqual(tuned.alert, { overdueAfterMs: 3_600_000, afterFailures: 3, pauseAfterFailures: 5 });
  assert.deepEqual(compileRuntimeEntry(runtimeEntryInput(tuned), TASKS), tuned);
  const off = compileRuntimeEntry({ name: 'o', task: 'reports.send', schedule: '0 9 * * *', alert: { overdueAfter: false } }, TASKS);
  assert.equal(off.alert.overdueAfterMs, false);
  assert.deepEqual(runtimeEntryInput(off).alert, { overdueAfter: false });
  refused({ name: 'b', task: 'reports.send', schedule: '0 9 * * *', alert: { afterFailures: 0 } }, 'alert', /alert.afterFailures 0 must be a whole number from 1 to 1000/);
  refused({ name: 'b', task: 'reports.send', schedule: '0 9 * * *', alert: { overdue: '1h' } }, 'alert', /unknown alert field "overdue"/);
  refused({ name: 'b', task: 'reports.send', schedule: '0 9 * * *', alert: { overdueAfter: 'later' } }, 'alert', /not a duration/);
});
