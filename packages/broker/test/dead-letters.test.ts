import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decode } from '@nightshift/core';
import { buildEnvelope, consumeTasks, HEADERS, readDeadLetter } from '@nightshift/broker';
import { header, nextMessage, testBroker } from './support.ts';

let ctx: Awaited<ReturnType<typeof testBroker>>;
before(async () => { ctx = await testBroker(); });
after(async () => { await ctx.cleanup(); });

test('a malformed message reaches dead-letters with its reason, and the handler never sees it', async () => {
  const { broker, raw } = ctx;
  let handled = 0;
  const subscription = await consumeTasks(broker, 'malformed', async (task) => { handled += 1; task.delivery.ack(); });
  raw.publish(broker.names.tasks, 'malformed', Buffer.from(JSON.stringify({ task: 'x', args: [] })), { messageId: 'm-1' });
  const dead = await nextMessage(raw, broker.names.deadLetters);
  await subscription.cancel();
  assert.equal(handled, 0);
  assert.equal(header(dead, HEADERS.reason), 'malformed');
  assert.equal(dead.properties.messageId, 'm-1');
  assert.equal(dead.content.toString(), JSON.stringify({ task: 'x', args: [] }), 'the original body is kept');
  const info = readDeadLetter(dead);
  assert.equal(info.reason, 'malformed');
  assert.match(info.detail ?? '', /field "v" must be 1|field "id" must be a non-empty string/);
  assert.equal(info.originalQueue, 'malformed');
  assert.equal((await raw.checkQueue(broker.names.queue('malformed'))).messageCount, 0, 'nothing left behind');
});

test('a rejected message reaches dead-letters, marked rejected by the broker', async () => {
  const { broker, raw } = ctx;
  const subscription = await broker.consume('rejects', (delivery) => delivery.nack(false));
  raw.publish(broker.names.tasks, 'rejects', Buffer.from('{}'), { messageId: 'r-1' });
  const dead = await nextMessage(raw, broker.names.deadLetters);
  await subscription.cancel();
  assert.equal(dead.properties.messageId, 'r-1');
  assert.equal(readDeadLetter(dead).reason, 'rejected');
  assert.equal(readDeadLetter(dead).originalQueue, broker.names.queue('rejects'));
});

test('a message delivered more than the delivery limit is dead-lettered as poison', async () => {
  const { broker, raw } = ctx;
  let deliveries = 0;
  // Requeue every time, as a worker that keeps crashing on this message would.
  const subscription = await broker.consume('poison', (delivery) => { deliveries += 1; delivery.nack(true); });
  raw.publish(broker.names.tasks, 'poison', Buffer.from('{}'), { messageId: 'p-1' });
  const dead = await nextMessage(raw, broker.names.deadLetters);
  await subscription.cancel();
  assert.equal(dead.properties.messageId, 'p-1');
  assert.equal(readDeadLetter(dead).reason, 'delivery_limit');
  assert.ok(deliveries >= ctx.config.deliveryLimit && deliveries <= ctx.config.deliveryLimit + 1, `delivered ${deliveries} times with limit ${ctx.config.deliveryLimit}`);
});

test('a message received after it expired is dead-lettered as expired and not run', async () => {
  const { broker, raw } = ctx;
  let handled = 0;
  const subscription = await consumeTasks(broker, 'expiring', async (task) => { handled += 1; task.delivery.ack(); });
  const envelope = buildEnvelope(undefined, { kind: 'nightshift.task', name: 'late.task' } as never, [], { queue: 'expiring', expires: new Date(Date.now() - 1_000) }, 'test');
  await broker.publisher.publish(broker.names.tasks, 'expiring', Buffer.from(JSON.stringify(envelope)), { messageId: envelope.id });
  const dead = await nextMessage(raw, broker.names.deadLetters);
  await subscription.cancel();
  assert.equal(handled, 0);
  assert.equal(readDeadLetter(dead).reason, 'expired');
  const body = decode(dead.content);
  assert.ok(body.ok && body.envelope.id === envelope.id);
});
