// Runs claimed ahead of their fire time (so that at a busy boundary nothing but the publish stands between a run and
// the broker): what a claim made ahead moves (the watermark, the unsent set) is undone when the run is not sent, a
// change acknowledged before the fire time still wins, and a next leader sends a stranded one at its time, not before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { defineApp, defineTask, type NightshiftConfig } from '@nightshift/core';
import { Broker, brokerOptions, REPUBLISHED_HEADER } from '@nightshift/broker';
import { Lease, RunJournal, RunLedger, startBeatService } from '@nightshift/beat';
import { beatKeys, runId } from '@nightshift/beat-state';
import { beatTestFile, capturingLogger, cleanupPrefix, eventually, QueueTap, sleep, testConfig } from './support.ts';
import { declareQueues, eventTap, missedCount, runtimeStore } from './runtime-support.ts';

const HOUR = 3_600_000;
const PERIOD_MS = 5_000;
const report = defineTask({ name: 'reports.build', queue: 'reports', run: (_ctx, _label: string) => undefined });
const app = defineApp({
  name: 'beat-claim-ahead', tasks: [report],
  schedule: [{ name: 'every-5s', task: 'reports.build', schedule: { every: '5s' }, args: ['code'] }],
});

const file = beatTestFile('beat-claim-ahead-test');
const { cleanups } = file;

async function setUp(label: string): Promise<{ config: NightshiftConfig; redis: Redis; reports: QueueTap }> {
  const config = await testConfig(label);
  const redis = new Redis(config.redisUrl);
  cleanups.push(async () => redis.disconnect(), () => cleanupPrefix(config, ['reports']));
  await declareQueues(config, ['reports']);
  const reports = await QueueTap.open(config, 'reports');
  cleanups.push(() => reports.close());
  return { config, redis, reports };
}

/** The next fire time of an every-5-s entry at least `leadMs` away. */
const nextFire = (leadMs: number) => Math.ceil((Date.now() + leadMs) / PERIOD_MS) * PERIOD_MS;

test('a claim made ahead leaves the watermark; undone, the claim goes and the run leaves the unsent set; fenced by the lease; a run recorded sent stays', async () => {
  const { config, redis } = await setUp('beat-unclaim');
  const keys = beatKeys(config.prefix);
  const a = new Lease(redis, keys, 10_000, 'a');
  const ledger = new RunLedger(redis, keys, a, HOUR, 'a');
  const t = Date.parse('2025-06-01T12:00:00Z');
  assert.equal(await a.refresh(), true);
  for (const entry of ['e1', 'e2']) {
    assert.notEqual(await ledger.start(entry, t), 'not-leader');
    assert.equal(await ledger.claim(entry, t + 60_000, true), 'claimed');
  }
  assert.equal(await redis.hget(keys.lastRun, 'e1'), String(t), 'a claim made ahead does not move the watermark: a leader stopped before the fire time leaves it at its last run');
  assert.equal((JSON.parse(await redis.get(keys.run('e1', t + 60_000)) ?? '{}') as { ahead?: boolean }).ahead, true, 'the claim says it was made ahead');

  await ledger.record('e2', t + 60_000, { state: 'sent', id: 'run-e2', sentAt: new Date().toISOString() });
  assert.equal(await ledger.unclaim('e1', t + 60_000), 'ok');
  assert.equal(await ledger.unclaim('e2', t + 60_000), 'ok');
  assert.equal(await redis.get(keys.run('e1', t + 60_000)), null, 'the claim is gone');
  assert.equal(await redis.hget(keys.lastRun, 'e1'), String(t), 'the watermark is where it was');
  assert.deepEqual(await redis.zrange(keys.unsent, '0', '-1'), [], 'nothing left unsent');
  assert.notEqual(await redis.get(keys.run('e2', t + 60_000)), null, 'a run recorded sent is not undone');
  assert.equal(await ledger.claim('e1', t + 60_000), 'claimed', 'the fire time can be claimed again');

  // Another replica holds the lease now: this one can undo nothing.
  a.drop();
  await redis.set(keys.lease, 'someone-else');
  assert.equal(await ledger.unclaim('e1', t + 60_000), 'not-leader');
  assert.equal(await redis.hget(keys.lastRun, 'e1'), String(t + 60_000), 'claimed when due, it moved the watermark');
  assert.notEqual(await redis.get(keys.run('e1', t + 60_000)), null);
});

test('a leader claims the next run ahead of its fire time; a next leader finding it stranded sends it at its time, not at once, and once', { timeout: 60_000 }, async () => {
  const { config, redis, reports } = await setUp('beat-ahead-stranded');
  const keys = beatKeys(config.prefix);
  // The dead leader: it declared the journal, claimed the next fire time ahead, and died before it was due.
  const lease = new Lease(redis, keys, 10_000, 'dead');
  assert.equal(await lease.refresh(), true);
  const ledger = new RunLedger(redis, keys, lease, HOUR, 'dead');
  const broker = await Broker.connect(brokerOptions(config, 'beat-claim-ahead-test'));
  ledger.journaled = await new RunJournal(broker, capturingLogger('silent').log).declare();
  await broker.close();
  const fireMs = nextFire(3_000);
  assert.notEqual(await ledger.start('every-5s', fireMs - PERIOD_MS), 'not-leader');
  assert.equal(await ledger.claim('every-5s', fireMs, true), 'claimed');
  lease.drop();
  await redis.del(keys.lease);

  const { log, lines } = capturingLogger('info');
  const service = await startBeatService({ app, config, log, meter: file.telemetry.meter, replica: 'next' });
  cleanups.push(() => service.stop());
  await eventually('the stranded run sent', () => reports.received.some((r) => r.messageId === runId('every-5s', fireMs)), fireMs - Date.now() + 5_000).catch((error: Error) => {
    throw new Error(`${error.message}; beat said:\n${lines().map((l) => String(l.msg)).join('\n')}`);
  });
  await eventually('the run after it', () => reports.scheduledFor().includes(fireMs + PERIOD_MS), 10_000);
  await sleep(500);
  const copies = reports.received.filter((r) => r.messageId === runId('every-5s', fireMs));
  assert.equal(copies.length, 1, 'sent once');
  const [run] = copies;
  assert.ok(Date.parse(run?.envelope.sentAt ?? '') >= fireMs, `sent at its fire time, not before (sent ${run?.envelope.sentAt} for ${new Date(fireMs).toISOString()})`);
  assert.notEqual(run?.headers[REPUBLISHED_HEADER], true, 'not marked as a possible second copy: the journal says it was not published');
  assert.deepEqual(reports.scheduledFor().filter((at) => at < fireMs), [], 'the new leader continued after the claimed run');
});

test('runtime entries: a run claimed ahead whose entry is changed before its fire time follows the new definition (the claim is undone, not skipped); one paused is not sent and counted', { timeout: 60_000 }, async (t) => {
  const { config, redis, reports } = await setUp('beat-ahead-change');
  const db = await runtimeStore();
  cleanups.push(db.cleanup);
  const events = await eventTap(config, ['beat.missed']);
  cleanups.push(() => events.close());
  const keys = beatKeys(config.prefix);
  const codeless = defineApp({ name: 'beat-claim-ahead-rt', tasks: [report], schedule: [] });
  const every5s = (args: string[]) => ({ name: 'changing', task: 'reports.build', schedule: { every: '5s' }, args });
  await db.records.insert('changing', every5s(['old']), null, 'ana');
  await db.records.insert('pausing', { ...every5s(['paused']), name: 'pausing' }, null, 'ana');
  const { log, lines } = capturingLogger('info');
  const service = await startBeatService({ app: codeless, config, log, meter: file.telemetry.meter, replica: 'rt', store: { url: db.url, schema: db.store.schema } });
  cleanups.push(() => service.stop());
  await eventually('a first run of each', () => reports.received.some((r) => r.envelope.args[0] === 'old') && reports.received.some((r) => r.envelope.args[0] === 'paused'), 15_000);

  // Both entries' next run claimed ahead (about a second before its fire time): then the changes are committed.
  const fireMs = nextFire(2_000);
  const claimed = (entry: string) => async () => (JSON.parse(await redis.get(keys.run(entry, fireMs)) ?? '{}') as { ahead?: boolean }).ahead === true;
  await eventually('both runs claimed ahead', async () => (await claimed('changing')()) && (await claimed('pausing')()), fireMs - Date.now(), 5);
  await db.records.update('changing', every5s(['new']), null, 'bo', 1);
  await db.records.setRuntimePaused('pausing', true, null, 'bo');
  const changedAt = Date.now();
  assert.ok(changedAt < fireMs, 'the changes were committed before the fire time');

  await eventually('the run after', () => reports.scheduledFor().some((at) => at > fireMs), fireMs - Date.now() + 8_000);
  await sleep(500);
  const at = (entry: string) => reports.received.filter((r) => (r.envelope.origin as { beat?: string }).beat === entry && reports.scheduledFor()[reports.received.indexOf(r)] === fireMs);
  t.diagnostic(`changed ${fireMs - changedAt} ms before ${new Date(fireMs).toISOString()}; changing sent for it: ${JSON.stringify(at('changing').map((r) => r.envelope.args))}`);
  assert.deepEqual(at('changing').map((r) => r.envelope.args), [['new']], 'the changed entry\'s fire time is sent once, as the new definition says');
  assert.deepEqual(at('pausing'), [], 'the paused entry\'s is not sent');
  await eventually('the paused fire time counted', () => missedCount(events.events, 'pausing', 'paused') >= 1, 5_000);
  const record = JSON.parse(await redis.get(keys.run('pausing', fireMs)) ?? 'null') as { state?: string } | null;
  assert.ok(record === null || record.state !== undefined, `no claim of the paused run left for a next leader to send (${JSON.stringify(record)})`);
  assert.ok(!(await redis.zrange(keys.unsent, '0', '-1')).some((member) => member.endsWith('|pausing')), 'nothing of it in the unsent set');
  assert.ok(lines().some((l) => l.entry === 'pausing' && /paused: its runs are counted/.test(String(l.msg))));
});
