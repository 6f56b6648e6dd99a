// The retry rescue: every retry is expected back in Redis by its time (an entry the attempt's claim removes), and
// one the ladder has not brought back NIGHTSHIFT_RETRY_RESCUE_AFTER past it is published again, straight to its
// queue. On a RabbitMQ cluster that covers a dead-letter worker stuck after a node loss; here the ladder is only
// slow (its one step, 8 s, is far beyond the 100 ms retry delay), so its copies arrive after the rescued ones ran
// and must be acked without running.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { Redis } from 'ioredis';
import type { LifecycleEvent } from '@nightshift/broker';
import { startTelemetry, type Telemetry } from '@nightshift/telemetry';
import { eventually } from '@nightshift/test-helpers';
import { flaky } from './fixtures/app.ts';
import { harness, type Harness } from './support.ts';

let telemetry: Telemetry;
const open: Harness[] = [];

before(async () => {
  telemetry = await startTelemetry({ service: 'worker-test', metricsPort: 0, logLevel: 'silent' });
});
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});
after(async () => {
  await telemetry?.shutdown();
});

async function rescued(task: string): Promise<number> {
  const text = await (await fetch(telemetry.metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`nightshift_retries_rescued_total{task="${task}"`));
  return Number(line?.split(' ').at(-1) ?? 0);
}

test('retries the ladder has not brought back 1 s past their time are sent again and run once; the ladder\'s late copies are acked without running', async () => {
  const h = await harness({ NIGHTSHIFT_RETRY_LADDER: '8s', NIGHTSHIFT_RETRY_RESCUE_AFTER: '1s' });
  open.push(h);
  const redis = new Redis(h.config.redisUrl);
  try {
    await h.worker({ concurrency: 1 });
    const before = await rescued('flaky');

    // flaky fails attempts 1 and 2 and succeeds on 3: two retries, each due 100 ms after its failure.
    const id = await h.client.send(flaky, []);
    const of = (type: LifecycleEvent['type']) => h.events.filter((e) => e.type === type && e.id === id);
    await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id, 30_000);
    // The ladder's copies of attempts 2 and 3 come back after 8 s each: both find their attempt finished.
    await eventually('the ladder\'s two copies', () => of('task.duplicate-suppressed').length >= 2, 30_000, 50);

    assert.deepEqual(of('task.started').map((e) => e.attempt), [1, 2, 3], 'each attempt started once');
    assert.deepEqual(of('task.duplicate-suppressed').map((e) => [e.attempt, e.reason]).sort(), [[2, 'completed'], [3, 'completed']]);
    assert.equal(of('task.succeeded')[0]?.attempt, 3);
    assert.equal(await rescued('flaky') - before, 2, 'nightshift_retries_rescued_total counted both');
    const lines = h.logs.filter((l) => l.level === 'warn' && l.msg.includes('had not come back from the retry ladder'));
    assert.equal(lines.length, 2, 'one warning per rescue');
    assert.match(lines[0]?.msg ?? '', /Retry queue holds messages, none ready/, 'it points at the runbook');
    // Nothing left expected: the claims took both entries (a claim removes its attempt's entry, the rescue its own).
    assert.equal(await redis.zcard(`${h.config.prefix}:retries-due:default`), 0);
    assert.equal(await redis.hlen(`${h.config.prefix}:retries-msg:default`), 0);
  } finally {
    redis.disconnect();
  }
});

test('retries the ladder brings back in time are never sent again, and leave nothing expected behind', async () => {
  const h = await harness({ NIGHTSHIFT_RETRY_RESCUE_AFTER: '1s' });
  open.push(h);
  const redis = new Redis(h.config.redisUrl);
  try {
    await h.worker({ concurrency: 1 });
    const id = await h.client.send(flaky, []);
    await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id, 30_000);
    // Longer than the rescue's wait and two of its sweeps: had an entry been left, it would have been sent.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.equal(h.logs.filter((l) => l.msg.includes('had not come back from the retry ladder')).length, 0);
    assert.deepEqual(h.events.filter((e) => e.type === 'task.started' && e.id === id).map((e) => e.attempt), [1, 2, 3]);
    assert.equal(h.events.filter((e) => e.type === 'task.duplicate-suppressed' && e.id === id).length, 0);
    assert.equal(await redis.zcard(`${h.config.prefix}:retries-due:default`), 0);
    assert.equal(await redis.hlen(`${h.config.prefix}:retries-msg:default`), 0);
  } finally {
    redis.disconnect();
  }
});
