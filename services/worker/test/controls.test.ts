import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { broadcastControl } from '@nightshift/broker';
import { Slots } from '../src/slots.ts';
import { readPoolBounds, resizedPool } from '../src/pool-control.ts';
import { limited } from './fixtures/limited-app.ts';
import { harness, type Harness } from './support.ts';

const limitedApp = fileURLToPath(new URL('./fixtures/limited-app.ts', import.meta.url));
let h: Harness;
before(async () => { h = await harness(); });
after(async () => { await h.close(); });

test('slots resized: a grow grants waiting places at once, a shrink takes effect as places are given back', async () => {
  const slots = new Slots<string>(1);
  assert.equal(await slots.acquire('a'), true);
  const waiting = slots.acquire('b');
  slots.resize(2);
  assert.equal(await waiting, true, 'granted by the grow');
  slots.resize(1);
  assert.equal(slots.busy, 2);
  const third = slots.acquire('c');
  slots.release(); // absorbed by the shrink
  assert.deepEqual(slots.reserved, ['c']);
  slots.release();
  assert.equal(await third, true);
  assert.equal(slots.busy, 1);
});

test('grow and shrink stay within the bounds, and say why not', () => {
  assert.deepEqual(resizedPool(2, 1, { min: 1, max: 4 }), { size: 3 });
  assert.deepEqual(resizedPool(2, -1, { min: 1, max: 4 }), { size: 1 });
  assert.match((resizedPool(4, 1, { min: 1, max: 4 }) as { refused: string }).refused, /would pass its maximum of 4/);
  assert.match((resizedPool(1, -1, { min: 1, max: 4 }) as { refused: string }).refused, /below its minimum of 1/);
  assert.match((readPoolBounds(3, 2) as { refused: string }).refused, /max \(2\) must be at least min \(3\)/);
  assert.match((readPoolBounds(0, 2) as { refused: string }).refused, /^min: 0 must be a whole number/);
});

test('a task\'s rateLimit from its definition holds further starts back on the worker; lifted at runtime, they run', async () => {
  const started = await h.worker({ appPath: limitedApp, concurrency: 2, name: 'limited-worker' });
  const ids = await Promise.all([1, 2, 3, 4].map((n) => h.client.send(limited, [n])));
  const succeeded = () => ids.filter((id) => h.events.some((e) => e.type === 'task.succeeded' && e.id === id)).length;
  await h.waitForEvent(() => succeeded() === 2);
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  assert.equal(succeeded(), 2, 'two a minute');
  const stats = await broadcastControl(h.client.broker, 'stats', {}, { destination: ['limited-worker'], limit: 1, timeoutMs: 5_000 });
  assert.deepEqual((stats[0]?.reply as { rateLimits: unknown }).rateLimits, { limited: '2/m' });
  const reserved = await broadcastControl(h.client.broker, 'reserved', {}, { destination: ['limited-worker'], limit: 1, timeoutMs: 5_000 });
  assert.equal((reserved[0]?.reply as unknown[]).length, 2, 'the two held back are the worker\'s reserved tasks');
  const lifted = await broadcastControl(h.client.broker, 'rate-limit', { task: 'limited', rate: 'none' }, { destination: ['limited-worker'], limit: 1, timeoutMs: 5_000 });
  assert.deepEqual(lifted.map((r) => (r.reply as { ok: boolean }).ok), [true]);
  await h.waitForEvent(() => succeeded() === 4);
  const refused = await broadcastControl(h.client.broker, 'rate-limit', { task: 'limited', rate: '10 a minute' }, { destination: ['limited-worker'], limit: 1, timeoutMs: 5_000 });
  assert.match((refused[0]?.reply as { error: string }).error, /^rate: "10 a minute" is not a rate limit/);
  await started.stop();
});

test('a task held back by its rate limit goes back to its queue when the worker stops', async () => {
  const first = await h.worker({ appPath: limitedApp, concurrency: 1, name: 'stopping-worker' });
  const ids = await Promise.all([1, 2, 3].map((n) => h.client.send(limited, [n])));
  await h.waitForEvent(() => ids.filter((id) => h.events.some((e) => e.type === 'task.succeeded' && e.id === id)).length === 2);
  await first.stop();
  const second = await h.worker({ appPath: limitedApp, concurrency: 1, name: 'next-worker' });
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.worker === 'next-worker');
  assert.equal(ids.filter((id) => h.events.some((e) => e.type === 'task.succeeded' && e.id === id)).length, 3, 'none lost');
  await second.stop();
});
