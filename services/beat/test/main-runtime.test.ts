// services/beat/src/main.ts as a process, with and without the PostgreSQL of the runtime schedules.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cleanupPrefix, eventually, QueueTap, spawnBeat, testConfig, type BeatProcess } from './support.ts';
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
