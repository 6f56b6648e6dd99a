import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { defineTask } from '@nightshift/core';
import { buildEnvelope, consumeTasks, createClient, ladderStep, park } from '@nightshift/broker';
import { testBroker } from './support.ts';

let ctx: Awaited<ReturnType<typeof testBroker>>;
before(async () => { ctx = await testBroker(); });
after(async () => { await ctx.cleanup(); });

const ping = defineTask({ name: 'ping', run: () => 'pong' });

test('a delay maps to the longest step that does not overshoot it', () => {
  const ladder = [1_000, 5_000, 30_000];
  assert.equal(ladderStep(ladder, 400), 1_000);
  assert.equal(ladderStep(ladder, 1_000), 1_000);
  assert.equal(ladderStep(ladder, 7_000), 5_000);
  assert.equal(ladderStep(ladder, 3_600_000), 30_000);
});

/** Resolves with the time each message of `queue` reaches the handler. */
async function arrivals(queue: string, count: number): Promise<{ times: Promise<number[]>; count: () => number; stop: () => Promise<void> }> {
  const seen: number[] = [];
  let resolve: (times: number[]) => void = () => {};
  const times = new Promise<number[]>((r) => { resolve = r; });
  const subscription = await consumeTasks(ctx.broker, queue, async (task) => {
    seen.push(Date.now());
    task.delivery.ack();
    if (seen.length === count) resolve(seen);
  });
  return { times, count: () => seen.length, stop: () => subscription.cancel() };
}

test('a retry step returns the message after its delay (±20%)', async () => {
  const { broker } = ctx;
  const watch = await arrivals('stepped', 1);
  const sentAt = Date.now();
  const envelope = buildEnvelope(undefined, ping, [], { queue: 'stepped', countdown: '2s' }, 'test', sentAt);
  const step = await park(broker, envelope, {}, sentAt);
  assert.equal(step, 2_000);
  const [arrived] = await watch.times;
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  assert.equal(watch.count(), 1, 'it came back once, from one step only');
  await watch.stop();
  const waited = (arrived as number) - sentAt;
  assert.ok(waited >= 1_600 && waited <= 2_400, `waited ${waited}ms for a 2s step`);
});

test('countdown goes through the ladder, taking several steps for a delay no single step matches', async () => {
  const client = await createClient(ctx.config, { name: 'ladder-test' });
  const watch = await arrivals('countdown', 1);
  const sentAt = Date.now();
  await client.send(ping, [], { queue: 'countdown', countdown: '3s' });
  const queued = await ctx.raw.checkQueue(ctx.broker.names.queue('countdown'));
  assert.equal(queued.messageCount, 0, 'not held in the work queue');
  const [arrived] = await watch.times;
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  assert.equal(watch.count(), 1, 'it came back once');
  await watch.stop();
  await client.close();
  const waited = (arrived as number) - sentAt;
  assert.ok(waited >= 2_400 && waited <= 3_600, `waited ${waited}ms for a 3s countdown`);
});
