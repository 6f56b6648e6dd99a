import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { broadcastControl } from '@nightshift/broker';
import { eventually } from '@nightshift/test-helpers';
import { autoscaleStep } from '../src/autoscaler.ts';
import { parseAutoscale } from '../src/pool-control.ts';
import { nap } from './fixtures/app.ts';
import { harness, type Harness } from './support.ts';

let h: Harness;
before(async () => { h = await harness(); });
after(async () => { await h.close(); });

interface AutoscaleStatus { min: number; max: number; byLoad: boolean; lastChange: { from: number; to: number; reason: string } | null }

test('the autoscale rule: grow at once to what is wanted within max; shrink toward min only after the keepalive', () => {
  const bounds = { min: 2, max: 6 };
  assert.deepEqual(autoscaleStep(2, 5, bounds, 0, 30_000), { size: 5, reason: '5 tasks wanted a sandbox' });
  assert.deepEqual(autoscaleStep(2, 40, bounds, 0, 30_000)?.size, 6, 'no more than max');
  assert.equal(autoscaleStep(6, 6, bounds, 0, 30_000), undefined, 'full: stays');
  assert.equal(autoscaleStep(6, 0, bounds, 29_999, 30_000), undefined, 'idle, but not for the keepalive yet');
  assert.deepEqual(autoscaleStep(6, 0, bounds, 30_000, 30_000), { size: 2, reason: 'idle for 30 s' }, 'no fewer than min');
  assert.deepEqual(autoscaleStep(6, 3, bounds, 30_000, 30_000)?.size, 3);
  assert.deepEqual(autoscaleStep(1, 0, bounds, 0, 30_000)?.size, 2, 'raised to a new minimum at once');
  assert.deepEqual(parseAutoscale('10,3'), { min: 3, max: 10 });
  assert.deepEqual(parseAutoscale('4'), { min: 1, max: 4 });
  assert.throws(() => parseAutoscale('3,10'), /max \(3\) must be at least min \(10\)/);
  assert.throws(() => parseAutoscale('lots'), /is not "max,min"/);
});

test('--autoscale 4,1: the pool grows toward max while tasks wait, runs them side by side, and shrinks to min once idle', async () => {
  // The harness gives every worker a concurrency; --autoscale alone would start at its minimum, 1 (options.test.ts).
  const started = await h.worker({ name: 'scaling-worker', concurrency: 1, autoscale: '4,1', autoscaleKeepalive: '1s', queues: ['default'] });
  const stats = async () => {
    const replies = await broadcastControl(h.client.broker, 'stats', {}, { destination: ['scaling-worker'], limit: 1, timeoutMs: 5_000 });
    return replies[0]?.reply as { concurrency: number; autoscale: AutoscaleStatus };
  };
  assert.deepEqual(await stats().then((s) => [s.concurrency, s.autoscale.min, s.autoscale.max, s.autoscale.byLoad]), [1, 1, 4, true]);

  let most = 0;
  const watch = setInterval(() => { most = Math.max(most, started.worker.active); }, 10);
  try {
    const ids = await Promise.all(Array.from({ length: 8 }, () => h.client.send(nap, [1_500])));
    await eventually('the pool to grow to 4', async () => ((await stats()).concurrency === 4 ? true : undefined), 20_000, 50);
    await h.waitForEvent(() => ids.every((id) => h.events.some((e) => e.type === 'task.succeeded' && e.id === id)), 30_000);
    // A resize replaces the pool: the nap running in the old sandbox finishes beside the new pool's four.
    assert.ok(most >= 4 && most <= 5, `four naps ran at once in the grown pool (and the old pool's one, finishing): ${most}`);
  } finally {
    clearInterval(watch);
  }
  const grown = h.logs.find((line) => /^autoscale: pool grown from 1 to 4 sandboxes \(\d+ tasks wanted a sandbox\)$/.test(line.msg));
  assert.ok(grown, `the growth is logged with its reason: ${JSON.stringify(h.logs.filter((l) => l.msg.startsWith('autoscale')).map((l) => l.msg))}`);

  const shrunk = await eventually('the idle pool to shrink to 1', async () => {
    const now = await stats();
    return now.concurrency === 1 ? now : undefined;
  }, 20_000, 100);
  // Shrunk in one step or two, as the last naps finished: 4 → 1, or 4 → 2 (two still running) → 1.
  assert.equal(shrunk.autoscale.lastChange?.to, 1);
  assert.ok((shrunk.autoscale.lastChange?.from ?? 0) > 1);
  assert.match(shrunk.autoscale.lastChange?.reason ?? '', /^(idle for \d+ s|1 task for [2-4] sandboxes over \d+ s)$/, 'why it shrank');
  const later = await h.client.send(nap, [10]);
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === later);
  await started.stop();
});

test('a fixed pool follows the load once the autoscale control sets its bounds', async () => {
  const started = await h.worker({ name: 'fixed-worker', concurrency: 1, autoscaleKeepalive: '1s', queues: ['default'] });
  const ask = async (command: string, args: Record<string, unknown> = {}) => (await broadcastControl(h.client.broker, command as 'stats', args, { destination: ['fixed-worker'], limit: 1, timeoutMs: 10_000 }))[0]?.reply as Record<string, unknown>;
  assert.equal((await ask('stats') as { autoscale: AutoscaleStatus }).autoscale.byLoad, false, 'fixed until told');
  const first = await Promise.all(Array.from({ length: 3 }, () => h.client.send(nap, [600])));
  await new Promise((resolve) => setTimeout(resolve, 1_500)); // longer than a tick: a fixed pool stays at 1 under load
  assert.equal((await ask('stats')).concurrency, 1);
  await h.waitForEvent(() => first.every((id) => h.events.some((e) => e.type === 'task.succeeded' && e.id === id)), 20_000);
  const set = await ask('autoscale', { min: 1, max: 2 });
  assert.match(String(set.detail), /^pool bounds set to 1\.\.2, following the load; 1 sandboxes$/);
  const ids = await Promise.all(Array.from({ length: 4 }, () => h.client.send(nap, [1_000])));
  await eventually('the pool to grow to 2', async () => ((await ask('stats')).concurrency === 2 ? true : undefined), 20_000, 50);
  await h.waitForEvent(() => ids.every((id) => h.events.some((e) => e.type === 'task.succeeded' && e.id === id)), 30_000);
  await started.stop();
});
