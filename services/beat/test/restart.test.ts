// Proof: beat stopped for 30 s, then restarted, with a 10 s entry and policy 'once': exactly one catch-up
// run right after the restart, then runs on schedule again.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { cleanupPrefix, QueueTap, sleep, spawnBeat, testConfig, eventually, type BeatProcess } from './support.ts';

const APP = new URL('./fixtures/every-ten-seconds-app.ts', import.meta.url).pathname;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error('cleanup failed', error));
});

test('stopped for 30 s and restarted: one catch-up run, then on schedule', { timeout: 120_000 }, async () => {
  const config = await testConfig('beat-restart');
  cleanups.push(() => cleanupPrefix(config, ['reports']));
  const running: BeatProcess[] = [];
  cleanups.push(async () => {
    for (const beat of running) beat.child.kill('SIGKILL');
  });

  const first = spawnBeat(APP, config);
  running.push(first);
  await eventually('beat to start', () => first.lines.some((l) => l.msg === 'beat started'), 20_000);
  const tap = await QueueTap.open(config, 'reports');
  cleanups.push(() => tap.close());
  await eventually('a run before the stop', () => tap.received.length >= 1, 15_000);
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0);
  const stoppedAt = Date.now();
  const lastBefore = Math.max(...tap.scheduledFor());

  await sleep(30_000);
  const restartedAt = Date.now();
  const second = spawnBeat(APP, config);
  running.push(second);
  await eventually('the catch-up run', () => tap.received.length >= 2, 10_000);
  const catchUpArrivedAt = Date.now();
  await eventually('the next run on schedule', () => tap.received.length >= 3, 15_000);
  await sleep(500);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);

  const times = tap.scheduledFor();
  const [, catchUp, next] = times;
  const newestMissed = Math.floor(restartedAt / 10_000) * 10_000;
  assert.equal(times.length, 3, `one run before, one catch-up, one on schedule: ${times.map((t) => new Date(t).toISOString()).join(', ')}`);
  assert.ok(newestMissed - lastBefore >= 30_000, 'at least three runs came due while it was stopped');
  assert.ok(catchUp === newestMissed || catchUp === newestMissed + 10_000, 'the catch-up run stands for the newest missed time');
  assert.ok(catchUpArrivedAt - restartedAt < 5_000, 'the catch-up is sent right after the restart');
  assert.equal(next, (catchUp as number) + 10_000, 'then on schedule');
  const nextSentAt = Date.parse(tap.received[2]?.envelope.sentAt ?? '');
  assert.ok(nextSentAt - (next as number) < 500, 'the next run is on time');
  assert.ok(stoppedAt > lastBefore);
  assert.ok(second.lines.some((l) => /runs came due while this entry was not dispatched; misfire 'once': sending 1/.test(String(l.msg))), 'the restarted beat says what it caught up');
});
