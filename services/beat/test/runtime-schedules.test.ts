// Runtime schedules and entry states from PostgreSQL: one beat replica in-process on the real Redis, RabbitMQ and
// PostgreSQL, each test under its own prefix and schema. Changes are made the way every caller makes them
// (ScheduleRecords), or behind beat's back (SQL without the notification) where that is the point.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineApp, defineTask, type AnyApp, type Logger, type NightshiftConfig } from '@nightshift/core';
import { startBeatService, type BeatOptions, type BeatService } from '@nightshift/beat';
import { runId } from '@nightshift/beat-state';
import { quoteIdent } from '@nightshift/store';
import { beatTestFile, capturingLogger, cleanupPrefix, eventually, QueueTap, sleep, TcpProxy, testConfig } from './support.ts';
import { declareQueues, eventTap, missedCount, missedSeconds, runtimeStore } from './runtime-support.ts';

const tick = defineTask({ name: 'clock.tick', queue: 'ticks', run: () => undefined });
const report = defineTask({ name: 'reports.build', queue: 'reports', run: (_ctx, _label: string) => undefined });
const app = defineApp({
  name: 'beat-runtime', tasks: [tick, report],
  schedule: [{ name: 'tick', task: 'clock.tick', schedule: { every: '1s' } }],
});
const QUEUES = ['ticks', 'reports'];

const file = beatTestFile('beat-runtime-test');
const { cleanups } = file;

async function replica(config: NightshiftConfig, options: BeatOptions & { log?: Logger; store?: { url: string; schema: string }; app?: AnyApp } = {}): Promise<BeatService> {
  const service = await startBeatService({ app: options.app ?? app, config, log: options.log ?? capturingLogger('silent').log, meter: file.telemetry.meter, ...options });
  cleanups.push(() => service.stop());
  return service;
}

async function setUp(label: string) {
  const config = await testConfig(label);
  const db = await runtimeStore();
  cleanups.push(db.cleanup, () => cleanupPrefix(config, QUEUES));
  await declareQueues(config, QUEUES);
  const reports = await QueueTap.open(config, 'reports');
  const ticks = await QueueTap.open(config, 'ticks');
  const events = await eventTap(config, ['beat.dispatched', 'beat.missed']);
  cleanups.push(() => reports.close(), () => ticks.close(), () => events.close());
  return { config, db, reports, ticks, events, store: { url: db.url, schema: db.store.schema } };
}

async function metric(name: string, labels: Record<string, string>): Promise<number> {
  const body = await (await fetch(file.telemetry.metricsUrl)).text();
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
}

/**
 * Pauses `paused` and removes the runtime entry `removed` in one transaction of a replicating session, where the
 * notifying triggers do not fire (the change mark's does): the changes are committed, and beat is not told of them.
 * Resolves with when the commit returned.
 */
async function commitUnannounced(db: Awaited<ReturnType<typeof runtimeStore>>, paused: string, removed: string): Promise<number> {
  const client = await db.store.pool.connect();
  try {
    await client.query('SET session_replication_role = replica');
    await client.query('BEGIN');
    await client.query(`INSERT INTO ${quoteIdent(db.store.schema)}.schedule_states (name, paused, paused_by, paused_at) VALUES ($1, true, 'ana', now())`, [paused]);
    await client.query(`DELETE FROM ${quoteIdent(db.store.schema)}.schedules WHERE name = $1`, [removed]);
    await client.query('COMMIT');
    return Date.now();
  } finally {
    client.release(true);
  }
}

const iso = (times: readonly number[]) => times.map((at) => new Date(at).toISOString().slice(11, 23)).join(' ');

test('a runtime entry is dispatched from its next fire without a restart; a changed one follows its new schedule from the change; a removed one stops', async (t) => {
  const { db, reports, events, store, config } = await setUp('beat-rt');
  const { log, lines } = capturingLogger();
  const service = await replica(config, { replica: 'rt', store, log });
  await eventually('leader', () => service.beat.leading);

  const insertedAt = Date.now();
  await db.records.insert('hourly-report', { name: 'hourly-report', task: 'reports.build', schedule: { every: '1s' }, args: ['first'] }, 'added at runtime', 'ana');
  // The reconcile reads every 15 s: a run within a few seconds came through the notification.
  await eventually('two runs of the runtime entry', () => reports.received.length >= 2, 5_000);
  const first = reports.scheduledFor()[0] as number;
  t.diagnostic(`first run's fire time ${first - insertedAt} ms after the insert; sent ${Date.parse(reports.received[0]?.envelope.sentAt ?? '') - insertedAt} ms after it`);
  assert.ok(first > insertedAt, 'no fire time before the entry existed');
  const [sent] = reports.received;
  assert.deepEqual(sent?.envelope.origin, { type: 'beat', beat: 'hourly-report', scheduledFor: new Date(first).toISOString() });
  assert.equal(sent?.messageId, runId('hourly-report', first));
  assert.deepEqual(sent?.envelope.args, ['first']);
  await eventually('its beat.dispatched event', () => events.events.some((e) => e.type === 'beat.dispatched' && e.id === sent?.messageId));
  assert.equal(events.events.find((e) => e.id === sent?.messageId)?.origin, 'schedule');

  // Every 2 s from now on, with other arguments: the runs after the change are the new definition's.
  const updated = await db.records.update('hourly-report', { name: 'hourly-report', task: 'reports.build', schedule: { every: '2s' }, args: ['changed'] }, null, 'bo', 1);
  const changedAt = Date.parse(updated.updatedAt);
  await eventually('three runs of the new definition', () => reports.received.filter((r) => r.envelope.args[0] === 'changed').length >= 3, 10_000);
  const runs = reports.received.map((r, i) => ({ args: r.envelope.args[0], at: reports.scheduledFor()[i] as number }));
  const changed = runs.filter((r) => r.args === 'changed').map((r) => r.at);
  const before = runs.filter((r) => r.args === 'first').map((r) => r.at);
  t.diagnostic(`changed at ${iso([changedAt])}; before: ${iso(before)}; after: ${iso(changed)}`);
  assert.ok(changed.every((at) => at > changedAt && at % 2_000 === 0), `the new schedule's fire times, after the change: ${iso(changed)}`);
  changed.slice(1).forEach((at, i) => assert.equal(at - (changed[i] as number), 2_000, 'every 2 s'));
  assert.ok(before.every((at) => at <= changedAt + 1_000), `the old definition stops within a second of the change: ${iso(before)}`);
  assert.equal(new Set(runs.map((r) => r.at)).size, runs.length, 'no fire time twice');

  await db.records.delete('hourly-report', undefined, 'ana');
  const removedAt = Date.now();
  await sleep(3_000);
  const late = reports.scheduledFor().filter((at) => at > removedAt + 1_000);
  assert.deepEqual(late, [], 'no run after the removal');
  assert.ok(lines().some((l) => l.entry === 'hourly-report' && /removed: no further runs/.test(String(l.msg))), 'the log says it stopped');
});

test('paused: due fires are not sent and are counted missed (paused); resumed: sends from the next fire, no catch-up; every second accounted for', async (t) => {
  const { db, ticks, events, store, config } = await setUp('beat-pause');
  const service = await replica(config, { replica: 'pause', store });
  await eventually('two ticks', () => ticks.received.length >= 2, 8_000);

  const paused = await db.records.setPaused('tick', true, 'the partner API is down', 'ana');
  const pausedAt = Date.parse(paused.pausedAt ?? '');
  await eventually('the pause to reach beat', () => service.beat.entries.find((live) => live.entry.name === 'tick')?.paused === true, 2_000);
  await sleep(3_500);
  const resumed = await db.records.setPaused('tick', false, null, 'ana');
  const resumedAt = Date.parse(resumed.resumedAt ?? '');
  await eventually('two ticks after the resume', () => ticks.scheduledFor().filter((at) => at > resumedAt).length >= 2, 8_000);
  await service.stop();
  await sleep(300); // the last events arrive

  const sent = ticks.scheduledFor();
  const pausedSeconds = missedSeconds(events.events, 'tick');
  t.diagnostic(`paused at ${iso([pausedAt])}, resumed at ${iso([resumedAt])}; sent ${iso(sent)}; missed ${[...pausedSeconds].map(([at, why]) => `${iso([at])} ${why}`).join(', ')}`);
  assert.deepEqual(sent.filter((at) => at > pausedAt + 1_000 && at <= resumedAt), [], 'nothing sent while paused (the pause applies within a second)');
  assert.ok(sent.filter((at) => at > resumedAt).every((at) => at > resumedAt), 'after the resume, only fire times after it');
  const firstAfterResume = Math.min(...sent.filter((at) => at > pausedAt + 1_000));
  assert.ok(firstAfterResume > resumedAt && firstAfterResume - resumedAt <= 5_000, `the first run after the resume is its next fire time: ${iso([firstAfterResume])}`);
  assert.ok(missedCount(events.events, 'tick', 'paused') >= 3, 'the paused fire times are counted (beat.missed)');
  assert.ok((await metric('nightshift_beat_runs_missed_total', { entry: 'tick', reason: 'paused' })) >= 3, 'and in the metric');
  // Every second from the first run to the last: sent once, or counted missed, never both.
  assert.equal(new Set(sent).size, sent.length, 'no run twice');
  for (let at = Math.min(...sent); at <= Math.max(...sent); at += 1_000) {
    assert.ok(sent.includes(at) !== pausedSeconds.has(at), `${iso([at])}: sent, or counted missed (${pausedSeconds.get(at) ?? 'not counted'}), exactly one of them`);
  }
});

test('a change whose notification is lost is applied by the reconcile', async () => {
  const { db, reports, store, config } = await setUp('beat-heal');
  const heard: string[] = [];
  const listening = new AbortController();
  const listener = db.records.listen((name) => heard.push(name), listening.signal);
  cleanups.push(async () => {
    listening.abort();
    await listener;
  });
  const service = await replica(config, { replica: 'heal', store, reconcileEvery: '2s' });
  await eventually('leader', () => service.beat.leading);
  await eventually('the test listening', () => heard.includes('*'));

  // Triggers do not fire in a session replicating: the row is stored, and nobody is told.
  const client = await db.store.pool.connect();
  try {
    await client.query('SET session_replication_role = replica');
    await client.query(`INSERT INTO ${quoteIdent(db.store.schema)}.schedules (name, definition, created_by, updated_by) VALUES ($1, $2, 'ana', 'ana')`,
      ['quiet', JSON.stringify({ name: 'quiet', task: 'reports.build', schedule: { every: '1s' }, args: ['quiet'] })]);
  } finally {
    client.release(true);
  }
  await eventually('a run of the entry nobody announced', () => reports.received.length >= 1, 8_000);
  assert.deepEqual(heard.filter((name) => name !== '*'), [], 'no notification was sent: the reconcile found it');
  assert.equal(reports.received[0]?.envelope.origin.type === 'beat' && reports.received[0].envelope.origin.beat, 'quiet');
});

test('PostgreSQL unreachable: the code\'s entries and the runtime entries last read keep being dispatched, said once per outage; it recovers by itself', async (t) => {
  const { db, reports, ticks, store, config } = await setUp('beat-pgdown');
  await db.records.insert('hourly-report', { name: 'hourly-report', task: 'reports.build', schedule: { every: '1s' }, args: ['runtime'] }, null, 'ana');
  const proxy = await TcpProxy.start(db.url);
  cleanups.push(() => proxy.close());
  await proxy.cut();
  const { log, lines } = capturingLogger();
  const outageLines = () => lines().filter((l) => /cannot read the runtime schedules/.test(String(l.msg)));

  // Unreachable at start: the code's entry is dispatched, the runtime one waits.
  const service = await replica(config, { replica: 'pgdown', store: { ...store, url: proxy.url(db.url) }, reconcileEvery: '500ms', log });
  await eventually('ticks without PostgreSQL', () => ticks.received.length >= 3, 8_000);
  assert.equal(reports.received.length, 0, 'the runtime entry waits for PostgreSQL');
  assert.equal(outageLines().length, 1, 'one line says so, however many reads failed');
  assert.match(String(outageLines()[0]?.msg), /dispatching the code's 1 entries and the 0 runtime entries last loaded/);

  await proxy.restore();
  await eventually('the runtime entry once PostgreSQL answers', () => reports.received.length >= 2, 8_000);
  assert.ok(lines().some((l) => /runtime schedules readable again/.test(String(l.msg))), 'the log says it recovered');

  // Down again while dispatching: the runtime entry read before goes on.
  await proxy.cut();
  const cutAt = Date.now();
  await sleep(3_000);
  const afterCut = (tap: QueueTap) => tap.scheduledFor().filter((at) => at > cutAt + 500).length;
  t.diagnostic(`after the second cut: ${afterCut(ticks)} ticks, ${afterCut(reports)} reports`);
  assert.ok(afterCut(ticks) >= 2 && afterCut(reports) >= 2, 'both entries go on');
  assert.equal(outageLines().length, 2, 'one line per outage');
  assert.match(String(outageLines()[1]?.msg), /the 1 runtime entries last loaded/);
  await proxy.restore();
  const times = [...ticks.scheduledFor(), ...reports.scheduledFor()];
  assert.equal(new Set(reports.scheduledFor()).size, reports.received.length, 'no run twice');
  assert.ok(times.length > 0);
  assert.ok(service.beat.leading);
});

test('a replica taking over reads the entries first: it dispatches the runtime entry without a gap or a fire twice, and a paused entry stays paused', async () => {
  const { db, reports, ticks, store, config } = await setUp('beat-rt-handover');
  await db.records.insert('hourly-report', { name: 'hourly-report', task: 'reports.build', schedule: { every: '1s' }, args: ['runtime'] }, null, 'ana');
  await db.records.setPaused('tick', true, 'not while the partner API is down', 'ana');
  // A renewal period (10 s) far longer than the handover may take: the follower takes over when told of the release.
  const first = await replica(config, { replica: 'a', store, leaseTtl: '30s' });
  await eventually('a to lead', () => first.beat.leading);
  const second = await replica(config, { replica: 'b', store, leaseTtl: '30s' });
  await eventually('runs sent by a', () => reports.received.length >= 2, 6_000);
  await first.stop();
  const handedAt = Date.now();
  await eventually('b to lead', () => second.beat.leading, 2_000);
  await eventually('runs sent by b', () => reports.scheduledFor().filter((at) => at > handedAt).length >= 2, 6_000);
  await second.stop();
  await sleep(300);

  const times = reports.scheduledFor();
  assert.equal(new Set(times).size, times.length, `no fire time twice: ${iso(times)}`);
  const sorted = [...times].sort((a, b) => a - b);
  sorted.slice(1).forEach((at, i) => assert.equal(at - (sorted[i] as number), 1_000, `every second across the handover: ${iso(sorted)}`));
  assert.equal(ticks.received.length, 0, 'the paused code entry is not sent by either');
});

test('a pause and a removal whose notifications never come stop the next fire all the same: beat reads each due entry again before claiming it', async (t) => {
  const { db, reports, ticks, events, store, config } = await setUp('beat-fence');
  await db.records.insert('hourly-report', { name: 'hourly-report', task: 'reports.build', schedule: { every: '1s' }, args: ['runtime'] }, null, 'ana');
  const { log, lines } = capturingLogger();
  // The reconcile would find the changes only after 60 s: what stops the runs is the check at the fire time.
  const service = await replica(config, { replica: 'fence', store, reconcileEvery: '60s', log });
  await eventually('both entries running', () => ticks.received.length >= 2 && reports.received.length >= 2, 8_000);

  const changedAt = await commitUnannounced(db, 'tick', 'hourly-report');
  await sleep(3_000);
  const after = (tap: QueueTap) => tap.scheduledFor().filter((at) => at > changedAt);
  t.diagnostic(`committed at ${iso([changedAt])}; ticks after: ${iso(after(ticks))}; reports after: ${iso(after(reports))}`);
  assert.deepEqual(after(ticks), [], 'no tick for a fire time after the pause was committed');
  assert.deepEqual(after(reports), [], 'no run of the removed entry for a fire time after its removal was committed');
  // The check also reads the changed entries at once, as their notifications would have.
  assert.ok(lines().some((l) => l.entry === 'tick' && /paused: its runs are counted/.test(String(l.msg))), 'beat applied the pause it was not told of');
  assert.ok(lines().some((l) => l.entry === 'hourly-report' && /removed: no further runs/.test(String(l.msg))), 'and the removal');
  assert.ok(missedCount(events.events, 'tick', 'paused') >= 2, 'the paused fire times are counted (beat.missed)');
  assert.ok(service.beat.leading);
});

test('150 entries due together are read a second ahead, and at the fire time only the change mark is: a pause and a removal committed between the two, never notified, stop their fires', async (t) => {
  const { db, reports, store, config } = await setUp('beat-fence-ahead');
  const names = Array.from({ length: 150 }, (_, i) => `fleet-${String(i).padStart(3, '0')}`);
  for (const name of names) await db.records.insert(name, { name, task: 'reports.build', schedule: { every: '2s' }, args: [name] }, null, 'ana');
  const service = await replica(config, { replica: 'fence-ahead', store, reconcileEvery: '60s', log: capturingLogger('silent').log });
  const fires = (name: string) => reports.received.filter((r) => r.envelope.origin.type === 'beat' && r.envelope.origin.beat === name).map((r) => Date.parse(r.envelope.origin.type === 'beat' ? r.envelope.origin.scheduledFor ?? '' : ''));
  await eventually('every entry sent twice', () => names.every((name) => fires(name).length >= 2), 15_000);
  // The next fire is 2 s after the last one sent: its entries were read ahead a second before it. The change is
  // committed after that read and well before the fire.
  const next = Math.max(...fires('fleet-007')) + 2_000;
  await sleep(Math.max(0, next - 700 - Date.now()));
  const changedAt = await commitUnannounced(db, 'fleet-007', 'fleet-008');
  assert.ok(changedAt < next - 100, `committed before the fire time (${next - changedAt} ms before it)`);
  await eventually('the next two fires of the others', () => fires('fleet-006').filter((at) => at >= next + 2_000).length > 0, 8_000);
  const after = (name: string) => fires(name).filter((at) => at > changedAt);
  t.diagnostic(`committed ${next - changedAt} ms before the fire; fleet-007 after: ${iso(after('fleet-007'))}; fleet-008 after: ${iso(after('fleet-008'))}`);
  assert.deepEqual(after('fleet-007'), [], 'no run of the paused entry for a fire time after the pause was committed');
  assert.deepEqual(after('fleet-008'), [], 'no run of the removed entry for a fire time after its removal was committed');
  assert.ok(fires('fleet-006').includes(next) && fires('fleet-009').includes(next), 'the others sent at that fire time');
  assert.ok(service.beat.leading);
});
