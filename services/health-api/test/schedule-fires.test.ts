import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { publishEvent } from '@nightshift/broker';
import { eventually, installation, type Installation } from './support.ts';

let site: Installation;
before(async () => { site = await installation(); });
after(async () => { await site?.close(); });

const base = Date.parse('2030-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(base + ms).toISOString();

test('beat\'s events become each fire time\'s fate: sent by the schedule, run now or a backfill, or not sent and why; a duplicate is recorded once', async () => {
  const { broker, scheduleRecords } = site.api.room;
  const entry = 'nightly';
  const dispatched = (ms: number, extra: Record<string, unknown> = {}) =>
    ({ entry, task: 'echo', id: `beat:${entry}:${iso(ms)}`, scheduledFor: iso(ms), lagMs: 12, attempts: 1, replica: 'beat-1', ...extra });
  const recordedBefore = site.api.room.recorder.recorded;
  await publishEvent(broker, 'beat.dispatched', dispatched(0));
  await publishEvent(broker, 'beat.dispatched', dispatched(0)); // the same event again
  await publishEvent(broker, 'beat.dispatched', dispatched(1_000, { origin: 'manual', by: 'ana', lagMs: 3 }));
  await publishEvent(broker, 'beat.dispatched', dispatched(2_000, { origin: 'backfill', by: 'bo', lagMs: 86_400_000 }));
  await publishEvent(broker, 'beat.missed', { entry, task: 'echo', scheduledFor: iso(3_000), through: iso(5_000), count: 3, reason: 'paused' });
  await publishEvent(broker, 'beat.missed', { entry, task: 'echo', scheduledFor: iso(6_000), through: iso(6_000), count: 1, reason: 'overlap' });
  await publishEvent(broker, 'beat.missed', { entry, task: 'echo', scheduledFor: iso(7_000), count: 1, reason: 'coalesced' });
  await publishEvent(broker, 'beat.missed', { entry, task: 'echo', scheduledFor: iso(8_000), count: 1, reason: 'lost-lease' });
  await publishEvent(broker, 'beat.missed', { task: 'echo', scheduledFor: iso(9_000), reason: 'paused' }); // names no entry: not recorded

  await eventually('the recorder to take every event', () => site.api.room.recorder.recorded - recordedBefore >= 8);
  const fires = await eventually('the fires', async () => {
    const listed = await scheduleRecords.fires(entry);
    return listed.length >= 7 ? listed : undefined;
  });
  assert.deepEqual(fires.map((f) => [f.fireTime, f.origin, f.state, f.count, f.by]), [
    [iso(8_000), 'schedule', 'unsent', 1, null],
    [iso(7_000), 'schedule', 'misfire', 1, null],
    [iso(6_000), 'schedule', 'overlap', 1, null],
    [iso(3_000), 'schedule', 'paused', 3, null],
    [iso(2_000), 'backfill', 'sent', 1, 'bo'],
    [iso(1_000), 'manual', 'sent', 1, 'ana'],
    [iso(0), 'schedule', 'sent', 1, null],
  ]);
  const [lostLease, coalesced, overlap, paused, , manual, scheduled] = fires;
  assert.equal(paused?.throughTime, iso(5_000));
  assert.equal(overlap?.throughTime, null, 'a row of one fire time has no through time');
  assert.deepEqual([coalesced?.detail.reason, lostLease?.detail.reason], ['coalesced', 'lost-lease'], 'beat\'s own reason is kept');
  assert.equal(scheduled?.runId, `beat:${entry}:${iso(0)}`);
  assert.equal(scheduled?.latenessMs, 12);
  assert.deepEqual(scheduled?.detail, { task: 'echo', attempts: 1, replica: 'beat-1' });
  assert.ok(scheduled?.sentAt !== null && !Number.isNaN(Date.parse(scheduled?.sentAt ?? '')));
  assert.equal(manual?.latenessMs, 3);
});
