// Proof: beat stopped for 30 s and more, then restarted, with a 10 s entry and policy 'once': exactly one
// catch-up run right after the restart, then runs on schedule again. The downtime is not waited out: the
// watermark a beat leaves when it stops is seeded in Redis as it stood 40 s ago (as graphile-worker's cron
// tests seed `last_execution`).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { beatKeys } from '@nightshift/beat-state';
import { cleanupPrefix, QueueTap, spawnBeat, testConfig, eventually, type BeatProcess } from './support.ts';

const APP = new URL('./fixtures/every-ten-seconds-app.ts', import.meta.url).pathname;
const ENTRY = 'ten-seconds';
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error('cleanup failed', error));
});

test('stopped for 30 s and restarted: one catch-up run, then on schedule', { timeout: 60_000 }, async () => {
  const config = await testConfig('beat-restart');
  cleanups.push(() => cleanupPrefix(config, ['reports']));
  const running: BeatProcess[] = [];
  cleanups.push(async () => {
    for (const beat of running) beat.child.kill('SIGKILL');
  });

  // The last run before the stop was 40 s ago: a claim moves the entry's watermark to the run's fire time.
  const lastBefore = Math.floor(Date.now() / 10_000) * 10_000 - 40_000;
  const redis = new Redis(config.redisUrl);
  try {
    await redis.hset(beatKeys(config.prefix).lastRun, ENTRY, String(lastBefore));
  } finally {
    redis.disconnect();
  }

  const restartedAt = Date.now();
  const beat = spawnBeat(APP, config);
  running.push(beat);
  await eventually('beat to start', () => beat.lines.some((l) => l.msg === 'beat started'), 20_000);
  const tap = await QueueTap.open(config, 'reports');
  cleanups.push(() => tap.close());
  await eventually('the catch-up run', () => tap.received.length >= 1, 10_000);
  await eventually('the next run on schedule', () => tap.received.length >= 2, 15_000);
  beat.child.kill('SIGTERM');
  assert.equal(await beat.exited, 0);
  // Each run beat sent was confirmed before it logged it: once the tap holds them all, nothing else is coming.
  const dispatched = beat.lines.filter((l) => l.msg === 'dispatched').length;
  await eventually(`the ${dispatched} dispatched runs in the queue`, () => tap.received.length >= dispatched, 10_000);

  const times = tap.scheduledFor();
  const [catchUp, next] = times;
  const newestMissed = Math.floor(restartedAt / 10_000) * 10_000;
  assert.equal(times.length, 2, `one catch-up, one on schedule: ${times.map((t) => new Date(t).toISOString()).join(', ')}`);
  assert.equal(dispatched, 2, 'beat sent nothing else');
  assert.ok(newestMissed - lastBefore >= 30_000, 'at least three runs came due while it was stopped');
  assert.ok(catchUp === newestMissed || catchUp === newestMissed + 10_000, 'the catch-up run stands for the newest missed time');
  // From the beat's first log line, not from the spawn: how long Node takes to boot on a loaded machine is not beat's doing.
  const beatUpAt = Math.min(...beat.lines.map((l) => Date.parse(String(l.time))).filter(Number.isFinite));
  assert.ok(Number.isFinite(beatUpAt), 'beat logged when it started');
  const catchUpSentAt = Date.parse(tap.received[0]?.envelope.sentAt ?? '');
  assert.ok(catchUpSentAt - beatUpAt < 5_000, `the catch-up is sent right after the restart (${catchUpSentAt - beatUpAt} ms after beat's first line, ${catchUpSentAt - restartedAt} ms after the spawn)`);
  assert.equal(next, (catchUp as number) + 10_000, 'then on schedule');
  const nextSentAt = Date.parse(tap.received[1]?.envelope.sentAt ?? '');
  assert.ok(nextSentAt - (next as number) < 500, 'the next run is on time');
  assert.ok(beat.lines.some((l) => /runs came due while this entry was not dispatched; misfire 'once': sending 1/.test(String(l.msg))), 'the restarted beat says what it caught up');
});
