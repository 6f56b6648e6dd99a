import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { ConfigError, decode, defineApp, defineTask, UnroutableError } from '@nightshift/core';
import { buildEnvelope, createClient, parseEvents, type Client } from '@nightshift/broker';
import { eventually } from '@nightshift/test-helpers';
import { nextMessage, testBroker } from './support.ts';

const generate = defineTask({ name: 'reports.generate', queue: 'reports', retry: { maxRetries: 5 }, run: (_ctx, type: string) => type });
const cleanup = defineTask({ name: 'tokens.cleanup', run: () => 0 });
const app = defineApp({ name: 'shop', tasks: [generate, cleanup] });

let ctx: Awaited<ReturnType<typeof testBroker>>;
let client: Client<typeof app>;
before(async () => {
  ctx = await testBroker();
  client = await createClient(ctx.config, { app, name: 'client-test' });
});
after(async () => {
  await client.broker.deleteTopology();
  await client.close();
  await ctx.cleanup();
});

test('a task sent before any worker started waits in its queue', async () => {
  const id = await client.send(generate, ['usage'], { kwargs: { region: 'eu' } });
  const message = await nextMessage(ctx.raw, ctx.broker.names.queue('reports'));
  assert.equal(message.properties.messageId, id);
  assert.equal(message.properties.deliveryMode, 2, 'persistent');
  const decoded = decode(message.content);
  assert.ok(decoded.ok);
  assert.equal(decoded.envelope.task, 'reports.generate');
  assert.deepEqual(decoded.envelope.args, ['usage']);
  assert.deepEqual(decoded.envelope.kwargs, { region: 'eu' });
  assert.equal(decoded.envelope.maxAttempts, 6);
  assert.deepEqual(decoded.envelope.origin, { type: 'producer', producer: 'client-test' });
});

test('send by name uses the app; argument types are checked at compile time', async () => {
  const id = await client.send('tokens.cleanup', [], { id: 'fixed-id' });
  assert.equal(id, 'fixed-id');
  const message = await nextMessage(ctx.raw, ctx.broker.names.queue('default'));
  assert.equal(message.properties.messageId, 'fixed-id');
  if (Date.now() < 0) {
    // @ts-expect-error a number is not the report type
    await client.send(generate, [42]);
    // @ts-expect-error no such task in the app
    await client.send('reports.nope', []);
    // @ts-expect-error reports.generate takes a string
    await client.send('reports.generate', [true]);
  }
});

test('sending an unknown name says which tasks exist', async () => {
  await assert.rejects(client.send('nope' as never, [] as never), (error: unknown) => error instanceof ConfigError && /unknown task "nope": app "shop" has reports.generate, tokens.cleanup/.test(error.message));
});

test('a message no queue would take is reported, not silently dropped', async () => {
  const { broker } = ctx;
  await assert.rejects(
    broker.publisher.publish(broker.names.tasks, 'no-such-queue', Buffer.from('{}'), { messageId: 'lost?', mandatory: true }),
    (error: unknown) => error instanceof UnroutableError && /no queue is bound to .*tasks for routing key "no-such-queue"/.test(error.message),
  );
  // The channel is still good afterwards.
  await client.send(cleanup, []);
});

test('task.sent announces what was sent: the envelope\'s fields (not its version), when it was sent, with eta and expires', async () => {
  const { broker, raw } = ctx;
  const { queue } = await raw.assertQueue('', { exclusive: true, autoDelete: true });
  await raw.bindQueue(queue, broker.names.events, 'task.sent');
  const id = await client.send(generate, ['usage'], { kwargs: { region: 'eu' }, countdown: '1h', expires: '2h', id: 'announced' });
  // Earlier tests' events may come first.
  const event = await eventually('the task.sent event', async () => {
    const message = await raw.get(queue, { noAck: true });
    return message ? parseEvents(message.content).find((e) => e.id === id) : undefined;
  }, 10_000, 10);
  const { at, sentAt, eta, expires } = event as Record<string, string>;
  assert.equal(at, sentAt, 'at is when it was sent');
  assert.ok(Date.parse(eta as string) - Date.parse(sentAt as string) === 3_600_000 && Date.parse(expires as string) - Date.parse(sentAt as string) === 7_200_000);
  assert.deepEqual(event, {
    type: 'task.sent', at, id: 'announced', task: 'reports.generate', queue: 'reports', attempt: 1, maxAttempts: 6, sentAt,
    origin: { type: 'producer', producer: 'client-test' }, args: ['usage'], kwargs: { region: 'eu' }, eta, expires,
  });
});

test('a task in two apps takes each app\'s defaults', async () => {
  const shared = defineTask({ name: 'shared.task', run: () => 0 });
  const strict = defineApp({ name: 'strict', tasks: [shared], defaults: { queue: 'strict', retry: { maxRetries: 0 } } });
  const lenient = defineApp({ name: 'lenient', tasks: [shared] });
  const built = [strict, lenient, undefined, strict].map((a) => buildEnvelope(a, shared, [], {}, 'test'));
  assert.deepEqual(built.map((e) => [e.queue, e.maxAttempts]), [['strict', 1], ['default', 4], ['default', 4], ['strict', 1]]);
});
