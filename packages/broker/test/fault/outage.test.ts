import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { connect } from 'amqplib';
import { BrokerUnavailableError } from '@nightshift/core';
import { Broker, brokerOptions, consumeTasks, buildEnvelope, REPUBLISHED_HEADER } from '@nightshift/broker';
import { drain, testBroker } from '../support.ts';

// These tests stop and start the local RabbitMQ application, so they run on their own (npm run test:fault),
// after every other suite.
const run = promisify(execFile);
const rabbitmqctl = async (...args: string[]) => { await run('rabbitmqctl', args, { timeout: 120_000 }); };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let ctx: Awaited<ReturnType<typeof testBroker>>;
before(async () => { ctx = await testBroker({ NIGHTSHIFT_PUBLISH_TIMEOUT: '90s' }); });
after(async () => {
  await rabbitmqctl('start_app').catch(() => {});
  await ctx.broker.whenReady(60_000).catch(() => {});
  await ctx.cleanup();
});

const task = { kind: 'nightshift.task', name: 'outage.probe' } as never;

test('publish survives stop_app / start_app in the middle of a batch: nothing lost; a second copy only where the outage swallowed the confirm, and marked', async () => {
  const { broker, config } = ctx;
  await broker.ensureQueue('batch');
  // Keep a window of publishes open the whole time: before, during and after the broker's outage.
  const window = 100;
  let sent = 0;
  let confirmed = 0;
  let outageDone = false;
  let confirmedAfterOutage = 0;
  let outage: Promise<void> | undefined;
  const publishOne = async (): Promise<void> => {
    const i = sent++;
    const envelope = buildEnvelope(undefined, task, [i], { queue: 'batch', id: `m-${i}` }, 'fault-test');
    await broker.publisher.publish(broker.names.tasks, 'batch', Buffer.from(JSON.stringify(envelope)), { messageId: envelope.id });
    confirmed += 1;
    if (outageDone) confirmedAfterOutage += 1;
    if (confirmed === 500) {
      outage = (async () => {
        await rabbitmqctl('stop_app');
        await sleep(1_000);
        await rabbitmqctl('start_app');
        outageDone = true;
      })();
    }
  };
  const lane = async (): Promise<void> => {
    while (!outageDone || confirmedAfterOutage < 500) await publishOne();
  };
  await Promise.all(Array.from({ length: window }, lane));
  await outage;
  const total = sent;
  assert.ok(broker.generation >= 2, `the connection was recovered (generation ${broker.generation})`);

  const connection = await connect(config.amqpUrl);
  const channel = await connection.createChannel();
  const messages = await drain(channel, broker.names.queue('batch'));
  await connection.close();
  const copies = new Map<string, Array<{ republished: boolean }>>();
  for (const message of messages) {
    const id = message.properties.messageId as string;
    const list = copies.get(id) ?? [];
    list.push({ republished: message.properties.headers?.[REPUBLISHED_HEADER] === true });
    copies.set(id, list);
  }
  const missing = Array.from({ length: total }, (_, i) => `m-${i}`).filter((id) => !copies.has(id));
  assert.deepEqual(missing, [], 'nothing lost');
  // RabbitMQ cannot tell a publisher whether a message whose confirm was cut off by the outage was stored.
  // Such a message is sent again, marked; nothing else may ever appear twice.
  const duplicated = [...copies].filter(([, list]) => list.length > 1);
  for (const [id, list] of duplicated) {
    assert.equal(list.length, 2, `${id} appears ${list.length} times`);
    assert.deepEqual(list.map((c) => c.republished), [false, true], `${id}: the first copy is the original, the second is marked`);
  }
  assert.ok(duplicated.length <= window, `${duplicated.length} second copies, at most the ${window} publishes in flight at the outage`);
  const unmarkedExtra = messages.length - copies.size - duplicated.length;
  assert.equal(unmarkedExtra, 0);
  console.log(`# ${total} published across the outage, ${messages.length} in the queue, ${duplicated.length} marked second copies`);
});

test('a publish during an outage waits, then fails loudly; after the outage publishing works again', async () => {
  const short = await Broker.connect({ ...brokerOptions(ctx.config, 'outage-short'), publishTimeoutMs: 1_500 });
  await short.ensureQueue('outage');
  await rabbitmqctl('stop_app');
  try {
    const started = Date.now();
    await assert.rejects(short.publisher.publish(short.names.tasks, 'outage', Buffer.from('{}')), (error: unknown) => {
      assert.ok(error instanceof BrokerUnavailableError);
      assert.match(error.message, /failed after 1500ms: the broker is unreachable/);
      return true;
    });
    const waited = Date.now() - started;
    assert.ok(waited >= 1_400, `waited ${waited}ms before failing`);
  } finally {
    await rabbitmqctl('start_app');
  }
  await short.whenReady(60_000);
  await short.publisher.publish(short.names.tasks, 'outage', Buffer.from('{}'));
  await short.withChannel((channel) => channel.deleteQueue(short.names.queue('outage')));
  await short.close();
});

test('a consumer resumes after the broker comes back', async () => {
  const { broker } = ctx;
  const received: string[] = [];
  const subscription = await consumeTasks(broker, 'resume', async (t) => { received.push(t.envelope.id); t.delivery.ack(); });
  await rabbitmqctl('stop_app');
  await rabbitmqctl('start_app');
  await broker.whenReady(60_000);
  const envelope = buildEnvelope(undefined, task, [], { queue: 'resume', id: 'after-restart' }, 'fault-test');
  await broker.publisher.publish(broker.names.tasks, 'resume', Buffer.from(JSON.stringify(envelope)));
  const deadline = Date.now() + 15_000;
  while (!received.includes('after-restart') && Date.now() < deadline) await sleep(50);
  await subscription.cancel();
  assert.deepEqual(received, ['after-restart']);
});
