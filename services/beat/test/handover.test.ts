// Proof: three beat processes, a one-second entry, 20 s; the leader is SIGKILLed at 10 s. Every second
// arrives exactly once, except that the seconds inside the handover become one catch-up run (policy
// 'once'); nothing arrives twice.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { beatKeys, leaseHolder, runId } from '@nightshift/beat-state';
import { cleanupPrefix, QueueTap, sleep, spawnBeat, testConfig, eventually, type BeatProcess } from './support.ts';

function lastLines(beat: BeatProcess): string {
  const state = beat.child.exitCode === null ? 'running' : `exited ${beat.child.exitCode}`;
  return `pid ${beat.child.pid} (${state}): ${beat.lines.slice(-5).map((l) => String(l.msg)).join(' | ') || 'nothing'}`;
}

const APP = new URL('./fixtures/every-second-app.ts', import.meta.url).pathname;
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error('cleanup failed', error));
});

test('three beats, the leader SIGKILLed at 10 s: every second once, the handover caught up once, none twice', { timeout: 90_000 }, async (t) => {
  const config = await testConfig('beat-handover');
  const redis = new Redis(config.redisUrl);
  cleanups.push(async () => redis.disconnect(), () => cleanupPrefix(config, ['ticks']));
  const beats: BeatProcess[] = [spawnBeat(APP, config), spawnBeat(APP, config), spawnBeat(APP, config)];
  cleanups.push(async () => {
    for (const beat of beats) beat.child.kill('SIGKILL');
  });

  // If none leads, say what each beat said.
  await eventually('a leader', async () => (await redis.get(beatKeys(config.prefix).lease)) !== null, 20_000).catch((error: Error) => {
    throw new Error(`${error.message}; the beats' last lines:\n${beats.map((b) => lastLines(b)).join('\n')}`);
  });
  await eventually('the queue', () => beats.some((b) => b.lines.some((l) => l.msg === 'beat started')), 10_000);
  const tap = await QueueTap.open(config, 'ticks');
  cleanups.push(() => tap.close());
  await eventually('the first run', () => tap.received.length > 0, 5_000);
  const start = tap.scheduledFor()[0] as number;

  await sleep(start + 10_000 - Date.now());
  const token = await redis.get(beatKeys(config.prefix).lease);
  const leaderPid = Number(/:(\d+)$/.exec(leaseHolder(token ?? ''))?.[1]);
  const leader = beats.find((b) => b.child.pid === leaderPid);
  assert.ok(leader, `the lease names one of the three (${token})`);
  const killedAt = Date.now();
  leader.child.kill('SIGKILL');
  await sleep(start + 20_000 - Date.now() + 1_500);

  const survivors = beats.filter((b) => b !== leader);
  // What each said before the stop: when the leader stops it hands the lease over at once, and the other, not yet
  // stopping itself, may lead for a moment before its own SIGTERM arrives.
  const saidBeforeStop = new Map(survivors.map((b) => [b, b.lines.length]));
  for (const beat of survivors) beat.child.kill('SIGTERM');
  assert.deepEqual(await Promise.all(survivors.map((b) => b.exited)), [0, 0], 'the others stop cleanly on SIGTERM');

  const times = tap.scheduledFor().filter((at) => at <= start + 20_000);
  const ids = tap.received.map((r) => r.messageId);
  assert.equal(new Set(ids).size, ids.length, 'no message id twice');
  assert.equal(new Set(times).size, times.length, 'no second twice');
  for (const r of tap.received) assert.equal(r.messageId, runId('tick', Date.parse((r.envelope.origin as { scheduledFor: string }).scheduledFor)));
  assert.equal(times[0], start);
  assert.equal(times.at(-1), start + 20_000, 'runs up to the 20th second');

  const gaps = times.slice(1).map((at, i) => ({ from: times[i] as number, to: at })).filter(({ from, to }) => to - from !== 1_000);
  const listing = times.map((t) => `+${(t - start) / 1000}s`).join(' ');
  t.diagnostic(`killed the leader at +${(killedAt - start) / 1000}s; runs: ${listing}`);
  assert.ok(gaps.length <= 1, `at most one gap, the handover: ${listing}`);
  const gap = gaps[0];
  if (gap !== undefined) {
    assert.ok(gap.from <= killedAt && gap.to >= killedAt, `the gap is the handover (killed at +${(killedAt - start) / 1000}s): ${listing}`);
    assert.ok(gap.to - gap.from <= 8_000, `the handover took at most the lease time and a renewal: ${listing}`);
  }
  const newLeaders = survivors.filter((b) => b.lines.slice(0, saidBeforeStop.get(b)).some((l) => /^leader:/.test(String(l.msg))));
  assert.equal(newLeaders.length, 1, 'exactly one of the two others took over');
  const caughtUp = newLeaders[0]?.lines.find((l) => l.entry === 'tick' && /came due while this entry was not dispatched; misfire 'once': sending 1/.test(String(l.msg)));
  if (gap !== undefined) assert.ok(caughtUp, 'the new leader sent one run for the seconds of the handover');
});
