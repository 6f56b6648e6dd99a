// The publish timeout: a publish the broker never confirms fails once its own timeout has passed, counted from
// when it was made, whatever else the publisher is waiting for; those that are confirmed are never failed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BrokerUnavailableError } from '@nightshift/core';
import { testBroker } from './support.ts';

const TIMEOUT_MS = 400;

let ctx: Awaited<ReturnType<typeof testBroker>>;
before(async () => { ctx = await testBroker({ NIGHTSHIFT_PUBLISH_TIMEOUT: `${TIMEOUT_MS}ms` }); });
after(async () => { await ctx.cleanup(); });

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** When a publish settled, in ms after it was made, and how. */
async function settled(publish: Promise<void>): Promise<{ readonly afterMs: number; readonly error?: unknown }> {
  const started = performance.now();
  try {
    await publish;
    return { afterMs: performance.now() - started };
  } catch (error) {
    return { afterMs: performance.now() - started, error };
  }
}

test('publishes the broker never confirms fail each after its own timeout; confirmed ones before and after resolve', async () => {
  const { broker, raw } = ctx;
  // A queue that refuses every message: the broker nacks each publish, the publisher sends it again on a fresh
  // channel (with backoff), and nothing is ever confirmed.
  const full = `${broker.names.queue('full')}-refusing`;
  await raw.assertQueue(full, { durable: false, arguments: { 'x-max-length': 0, 'x-overflow': 'reject-publish' } });
  try {
    await broker.ensureQueue('open');
    await broker.publisher.publish(broker.names.tasks, 'open', Buffer.from('before'));

    const first = settled(broker.publisher.publish('', full, Buffer.from('first')));
    await sleep(TIMEOUT_MS / 2);
    const second = settled(broker.publisher.publish('', full, Buffer.from('second')));
    const [a, b] = await Promise.all([first, second]);
    for (const [name, result] of [['first', a], ['second', b]] as const) {
      assert.ok(result.error instanceof BrokerUnavailableError, `${name}: ${String(result.error)}`);
      assert.match(result.error.message, new RegExp(`failed after ${TIMEOUT_MS}ms`));
      // Each from when it was made: the second is not failed with the first, half a timeout early.
      assert.ok(result.afterMs >= TIMEOUT_MS - 5, `${name} failed ${result.afterMs.toFixed(0)} ms after it was made`);
    }

    const after = await settled(broker.publisher.publish(broker.names.tasks, 'open', Buffer.from('after')));
    assert.equal(after.error, undefined, 'publishing works after the timeouts');
    await broker.publisher.flush();
    const { messageCount } = await raw.checkQueue(broker.names.queue('open'));
    assert.equal(messageCount, 2);
  } finally {
    await raw.deleteQueue(full).catch(() => {});
  }
});
