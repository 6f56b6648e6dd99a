import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@nightshift/core';
import {
  compileMisfire, cron, dueRuns, every, graceEnd, MAX_COUNTED_RUNS, nextFireTime, planRuns, runsToKeep,
  type MisfireInput, type Schedule,
} from '@nightshift/schedule';

const T = Date.parse('2025-06-01T12:00:00Z');
const S = 1_000;

/** What beat does on waking at `now` with `last` as the newest run it already handled. */
function plan(schedule: Schedule, misfire: MisfireInput | undefined, last: number, now: number, zone = 'UTC') {
  const policy = compileMisfire(misfire, 'entry "x"');
  const due = dueRuns(schedule, last, now, zone, runsToKeep(policy));
  return planRuns(due, now, policy, (at) => nextFireTime(schedule, at, zone));
}

test("the default policy is 'once'; grace and cap have per-policy defaults", () => {
  assert.deepEqual(compileMisfire(undefined, 'e'), { policy: 'once', graceMs: undefined, cap: 10 });
  assert.deepEqual(compileMisfire('skip', 'e'), { policy: 'skip', graceMs: 1_000, cap: 10 });
  assert.deepEqual(compileMisfire('all', 'e'), { policy: 'all', graceMs: undefined, cap: 10 });
  assert.deepEqual(compileMisfire({ policy: 'once', grace: '10m' }, 'e'), { policy: 'once', graceMs: 600_000, cap: 10 });
  assert.deepEqual(compileMisfire({ policy: 'all', cap: 3, grace: '1h' }, 'e'), { policy: 'all', graceMs: 3_600_000, cap: 3 });
});

test('a bad misfire names the entry', () => {
  const cases: [unknown, RegExp][] = [
    ['sometimes', /misfire "sometimes" must be 'skip', 'once' or 'all'/],
    [{ policy: 'once', grace: 'soon' }, /entry "x" misfire.grace: "soon" is not a duration/],
    [{ policy: 'once', cap: 2 }, /misfire.cap only applies to policy 'all'/],
    [{ policy: 'all', cap: 0 }, /misfire.cap 0 must be a whole number ≥ 1/],
    [{ policy: 'all', limit: 2 }, /unknown misfire field "limit"/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => compileMisfire(input, 'entry "x"'), (error: unknown) => error instanceof ConfigError && message.test(error.message) && error.message.startsWith('entry "x"'));
  }
});

test('nothing due, nothing to do', () => {
  assert.deepEqual(plan(every('10s'), 'once', T, T + 9_999), { send: [], missed: {}, through: undefined });
});

test('a run woken for on time is sent under every policy', () => {
  for (const policy of ['skip', 'once', 'all'] as const) {
    assert.deepEqual(plan(every('10s'), policy, T - 10 * S, T + 3), { send: [T], missed: {}, through: T }, policy);
  }
});

test("'once' after 35 s of downtime: one run for the three missed, the newest", () => {
  const result = plan(every('10s'), 'once', T, T + 35 * S);
  assert.deepEqual(result, { send: [T + 30 * S], missed: { coalesced: 2 }, through: T + 30 * S });
});

test("'once' with a grace: the newest missed run must be within it", () => {
  assert.deepEqual(plan(every('1h'), { policy: 'once', grace: '10m' }, T, T + 3 * 3_600_000 + 5 * 60_000).send, [T + 3 * 3_600_000]);
  const late = plan(every('1h'), { policy: 'once', grace: '10m' }, T, T + 3 * 3_600_000 + 11 * 60_000);
  assert.deepEqual(late, { send: [], missed: { expired: 1, coalesced: 2 }, through: T + 3 * 3_600_000 });
});

test("'once' by default catches up a daily run missed by most of a day", () => {
  const daily = cron('5 0 * * *');
  const result = plan(daily, undefined, Date.parse('2025-06-01T00:05Z'), Date.parse('2025-06-02T23:00Z'));
  assert.deepEqual(result.send, [Date.parse('2025-06-02T00:05Z')]);
});

test("'skip' sends only a newest run that is still within its grace (1 s)", () => {
  assert.deepEqual(plan(every('10s'), 'skip', T, T + 30 * S + 400), { send: [T + 30 * S], missed: { skipped: 2 }, through: T + 30 * S });
  assert.deepEqual(plan(every('10s'), 'skip', T, T + 35 * S), { send: [], missed: { skipped: 3 }, through: T + 30 * S });
});

test("'all' sends each missed run oldest first, at most cap of the newest", () => {
  assert.deepEqual(plan(every('10s'), 'all', T, T + 35 * S), { send: [T + 10 * S, T + 20 * S, T + 30 * S], missed: {}, through: T + 30 * S });
  assert.deepEqual(plan(every('10s'), { policy: 'all', cap: 2 }, T, T + 55 * S), { send: [T + 40 * S, T + 50 * S], missed: { 'over-cap': 3 }, through: T + 50 * S });
  assert.deepEqual(plan(every('10s'), { policy: 'all', grace: '12s' }, T, T + 35 * S), { send: [T + 30 * S], missed: { expired: 2 }, through: T + 30 * S });
});

test("'all' replays a daily report for each day it was down (the example's reports)", () => {
  const daily = cron('5 0 * * *');
  const result = plan(daily, 'all', Date.parse('2025-06-01T00:05Z'), Date.parse('2025-06-04T09:00Z'));
  assert.deepEqual(result.send.map((ms) => new Date(ms).toISOString()), ['2025-06-02T00:05:00.000Z', '2025-06-03T00:05:00.000Z', '2025-06-04T00:05:00.000Z']);
});

test('grace ends: explicit, until the next run (once), never (all)', () => {
  const next = T + 10 * S;
  assert.equal(graceEnd(compileMisfire('skip', 'e'), T, next), T + 1_000);
  assert.equal(graceEnd(compileMisfire('once', 'e'), T, next), next);
  assert.equal(graceEnd(compileMisfire('all', 'e'), T, next), Number.POSITIVE_INFINITY);
  assert.equal(graceEnd(compileMisfire({ policy: 'all', grace: '5s' }, 'e'), T, next), T + 5_000);
});

test('dueRuns counts an interval in closed form and a cron schedule run by run', () => {
  const interval = dueRuns(every('1s'), T, T + 86_400_000 * 30, 'UTC', 2);
  assert.deepEqual(interval, { newest: [T + 86_400_000 * 30 - 1_000, T + 86_400_000 * 30], total: 86_400 * 30, atLeast: false });
  const hourly = dueRuns(cron('0 * * * *'), T, T + 5 * 3_600_000 + 1, 'UTC', 1);
  assert.deepEqual(hourly, { newest: [T + 5 * 3_600_000], total: 5, atLeast: false });
  const everyMinute = dueRuns(cron('* * * * *'), T, T + 10 * 86_400_000, 'UTC', 1);
  assert.equal(everyMinute.atLeast, true);
  assert.equal(everyMinute.total, MAX_COUNTED_RUNS);
  assert.deepEqual(dueRuns(cron('* * * * *'), T, T, 'UTC', 1), { newest: [], total: 0, atLeast: false });
});
