// services/beat/src/main.ts as a process, with and without the PostgreSQL of the runtime schedules.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cleanupPrefix, eventually, QueueTap, spawnBeat, testConfig, type BeatProcess } from './support.ts';
import { migrate } from '@nightshift/store';
import { declareQueues, runtimeStore } from './runtime-support.ts';

const APP = new URL('./fixtures/every-second-app.ts', import.meta.url).pathname;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error('cleanup failed', error));
});

function stopped(beat: BeatProcess): () => Promise<void> {
  return async () => {
    beat.child.kill('SIGTERM');
    await beat.exited;
  };
}

test('without PostgreSQL, beat dispatches the code\'s entries and says once that runtime changes wait', { timeout: 60_000 }, async () => {
  const config = await testConfig('beat-main-nodb');
  cleanups.push(() => cleanupPrefix(config, ['ticks']));
  await declareQueues(config, ['ticks']);
  const tap = await QueueTap.open(config, 'ticks');
  cleanups.push(() => tap.close());
  const beat = spawnBeat(APP, config, { NIGHTSHIFT_DATABASE_URL: 'postgres://postgres:s3cret@127.0.0.1:1/postgres', NIGHTSHIFT_BEAT_RECONCILE: '500ms' });
  cleanups.push(stopped(beat));
  await eventually('three runs', () => tap.received.length >= 3, 20_000);
  const waiting = beat.lines.filter((l) => /cannot read the runtime schedules/.test(String(l.msg)));
  assert.equal(waiting.length, 1, 'said once, though read every 500 ms');
  assert.equal(waiting[0]?.level, 'warn', 'as a warning');
  assert.ok(!JSON.stringify(beat.lines).includes('s3cret'), 'the password is never logged');
});

test('with NIGHTSHIFT_DATABASE_URL and _SCHEMA, beat dispatches the runtime entries of that schema', { timeout: 60_000 }, async () => {
  const config = await testConfig('beat-main-db');
  const db = await runtimeStore();
  cleanups.push(db.cleanup, () => cleanupPrefix(config, ['ticks']));
  await declareQueues(config, ['ticks']);
  const tap = await QueueTap.open(config, 'ticks');
  cleanups.push(() => tap.close());
  await db.records.insert('runtime-tick', { name: 'runtime-tick', task: 'clock.tick', schedule: { every: '1s' }, args: ['runtime'] }, null, 'ana');
  const beat = spawnBeat(APP, config, { NIGHTSHIFT_DATABASE_URL: db.url, NIGHTSHIFT_DATABASE_SCHEMA: db.store.schema });
  cleanups.push(stopped(beat));
  await eventually('runs of the runtime entry', () => tap.received.filter((r) => r.envelope.args[0] === 'runtime').length >= 2, 20_000);
  assert.ok(beat.lines.some((l) => l.msg === 'leader: dispatching 2 schedule entries' && l.runtimeEntries === 1), 'the leader names both');
});

test('a first start before the store is migrated: beat says so once, not as a warning, and runs the runtime entries once it is migrated', { timeout: 60_000 }, async () => {
  const config = await testConfig('beat-main-unmigrated');
  const db = await runtimeStore({ migrated: false });
  cleanups.push(db.cleanup, () => cleanupPrefix(config, ['ticks']));
  await declareQueues(config, ['ticks']);
  const tap = await QueueTap.open(config, 'ticks');
  cleanups.push(() => tap.close());
  // The reconcile period is long: the entry comes with its notification, or the schema's retry every second.
  const beat = spawnBeat(APP, config, { NIGHTSHIFT_DATABASE_URL: db.url, NIGHTSHIFT_DATABASE_SCHEMA: db.store.schema, NIGHTSHIFT_BEAT_RECONCILE: '60s' });
  cleanups.push(stopped(beat));
  await eventually('runs of the code\'s entry', () => tap.received.length >= 2, 20_000);
  await migrate(db.store);
  await db.records.insert('runtime-tick', { name: 'runtime-tick', task: 'clock.tick', schedule: { every: '1s' }, args: ['runtime'] }, null, 'ana');
  const migratedAt = Date.now();
  await eventually('a run of the runtime entry', () => tap.received.some((r) => r.envelope.args[0] === 'runtime'), 15_000);
  const tookMs = Date.now() - migratedAt;
  assert.ok(tookMs < 10_000, `the runtime entry ran ${tookMs} ms after the migration, not a reconcile period later`);
  const waiting = beat.lines.filter((l) => /is not migrated yet/.test(String(l.msg)));
  assert.equal(waiting.length, 1, 'said once, though asked every second');
  assert.equal(waiting[0]?.level, 'info', 'a first start is not a warning');
  // The entry may come with its notification before the next whole read, which says so within a second.
  await eventually('the log to say the runtime schedules loaded', () => beat.lines.some((l) => /the store's schema is migrated/.test(String(l.msg))), 5_000);
  assert.deepEqual(beat.lines.filter((l) => l.level === 'warn' || l.level === 'error').map((l) => l.msg), [], 'no warning on a first start');
});
