// Acks are sent together on the event loop's next turn; none may be lost or cover a message not acked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually } from '@nightshift/test-helpers';
import type { Delivery } from '@nightshift/broker';
import { testBroker } from './support.ts';

let ctx: Awaited<ReturnType<typeof testBroker>>;
before(async () => { ctx = await testBroker(); });
after(async () => { await ctx.cleanup(); });

const publish = (queue: string, count: number) => {
  for (let i = 0; i < count; i++) ctx.raw.publish(ctx.broker.names.tasks, queue, Buffer.from(String(i)), { persistent: true });
};
const body = (delivery: Delivery) => Number(delivery.message.content.toString());

test('acks sent together settle exactly the messages acked: one held back in the middle and one nacked come back; the rest are gone', async () => {
  const { broker, raw } = ctx;
  const queue = 'acks';
  const deliveries: Delivery[] = [];
  const first = await broker.consume(queue, (delivery) => { deliveries.push(delivery); }, { prefetch: 20 });
  publish(queue, 20);
  await eventually('20 deliveries', () => (deliveries.length === 20 ? true : undefined), 10_000, 10);
  for (const delivery of deliveries) {
    if (body(delivery) === 7) continue; // still running
    if (body(delivery) === 12) delivery.nack(true);
    else delivery.ack();
  }
  const again: number[] = [];
  await eventually('the nacked one back', () => (deliveries.length > 20 ? true : undefined), 10_000, 10);
  again.push(...deliveries.slice(20).map(body));
  await first.cancel(); // closes the channel: what is unacked returns to the queue
  const left = await eventually('the queue settled', async () => {
    const { messageCount } = await raw.checkQueue(broker.names.queue(queue));
    return messageCount === 2 ? messageCount : undefined;
  }, 10_000, 20);
  assert.equal(left, 2, 'only the one held back and the nacked one (delivered again, not acked) are left');
  assert.deepEqual(again, [12], 'the nacked one came back at once');
  const bodies = [];
  for (let message = await raw.get(broker.names.queue(queue), { noAck: true }); message; message = await raw.get(broker.names.queue(queue), { noAck: true })) {
    bodies.push(Number(message.content.toString()));
  }
  assert.deepEqual(bodies.sort((a, b) => a - b), [7, 12]);
});

test('acks made just before cancel are sent before the channel closes: nothing is delivered again', async () => {
  const { broker, raw } = ctx;
  const queue = 'acks-at-close';
  const deliveries: Delivery[] = [];
  const subscription = await broker.consume(queue, (delivery) => { deliveries.push(delivery); }, { prefetch: 50 });
  publish(queue, 30);
  await eventually('30 deliveries', () => (deliveries.length === 30 ? true : undefined), 10_000, 10);
  for (const delivery of deliveries) delivery.ack();
  await subscription.cancel();
  const { messageCount } = await raw.checkQueue(broker.names.queue(queue));
  assert.equal(messageCount, 0);
});
