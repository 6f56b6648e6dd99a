import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect } from 'amqplib';
import { TopologyMismatchError } from '@nightshift/core';
import { Broker, brokerOptions, declareBaseTopology, declareWorkQueue } from '@nightshift/broker';
import { testBroker } from './support.ts';

let ctx: Awaited<ReturnType<typeof testBroker>>;
before(async () => { ctx = await testBroker(); });
after(async () => { await ctx.cleanup(); });

test('declares the topology of DESIGN.md under the prefix', async () => {
  const { broker, raw } = ctx;
  await broker.ensureQueue('default');
  const p = ctx.config.prefix;
  for (const queue of [`${p}.q.default`, `${p}.dead-letters`, `${p}.retry.1s`, `${p}.retry.2s`]) {
    const ok = await raw.checkQueue(queue);
    assert.equal(ok.queue, queue);
  }
  for (const exchange of ['tasks', 'retry', 'dlx', 'events', 'control']) await raw.checkExchange(`${p}.${exchange}`);
});

test('declaring twice is a no-op', async () => {
  const { broker, raw } = ctx;
  await broker.ensureQueue('twice');
  await raw.sendToQueue(`${ctx.config.prefix}.q.twice`, Buffer.from('keep me'));
  await broker.withChannel(async (channel) => {
    await declareBaseTopology(channel, broker.spec);
    await declareWorkQueue(channel, broker.spec, 'twice');
  });
  const check = await raw.checkQueue(`${ctx.config.prefix}.q.twice`);
  assert.equal(check.messageCount, 1, 'the message is still there');
});

test('many first sends to one queue at once declare it once, and a failed declaration is tried again by the next caller', async () => {
  const { broker, raw } = ctx;
  const withChannel = broker.withChannel.bind(broker);
  let channels = 0;
  broker.withChannel = (work) => {
    channels += 1;
    return withChannel(work);
  };
  try {
    await Promise.all(Array.from({ length: 50 }, () => broker.ensureQueue('crowd')));
    assert.equal(channels, 1, 'one channel for 50 callers');
    assert.equal((await raw.checkQueue(`${ctx.config.prefix}.q.crowd`)).queue, `${ctx.config.prefix}.q.crowd`);
    await broker.ensureQueue('crowd');
    assert.equal(channels, 1, 'declared queues are remembered');
    // A declaration that fails is not remembered: both callers see the error, and a later call declares again.
    const failing = Promise.all([broker.ensureQueue('bad name!'.repeat(40)), broker.ensureQueue('bad name!'.repeat(40))]);
    await assert.rejects(failing);
    const before = channels;
    await assert.rejects(broker.ensureQueue('bad name!'.repeat(40)));
    assert.equal(channels, before + 1);
  } finally {
    broker.withChannel = withChannel;
  }
});

test('declaring over an incompatible queue says what differs', async () => {
  const { broker } = ctx;
  await broker.ensureQueue('strict');
  const other = await Broker.connect(brokerOptions({ ...ctx.config, deliveryLimit: 9 }, 'mismatch-test'));
  try {
    await assert.rejects(other.ensureQueue('strict'), (error: unknown) => {
      assert.ok(error instanceof TopologyMismatchError);
      assert.equal(error.code, 'E_TOPOLOGY_MISMATCH');
      assert.match(error.message, new RegExp(`queue "${ctx.config.prefix}\\.q\\.strict" already exists with x-delivery-limit = 2, but Nightshift declares x-delivery-limit = 9`));
      assert.match(error.message, /Drain and delete/);
      return true;
    });
  } finally {
    await other.close();
  }
});

test('a classic queue of the same name is reported by the argument that differs', async () => {
  const connection = await connect(ctx.config.amqpUrl);
  const channel = await connection.createChannel();
  const name = `${ctx.config.prefix}.q.classic`;
  await channel.assertQueue(name, { durable: true });
  try {
    await assert.rejects(ctx.broker.ensureQueue('classic'), new RegExp(`queue "${ctx.config.prefix}\\.q\\.classic" already exists with x-dead-letter-exchange \\(not set\\), but Nightshift declares x-dead-letter-exchange = ${ctx.config.prefix}\\.dlx`));
  } finally {
    await channel.deleteQueue(name);
    await connection.close();
  }
});
