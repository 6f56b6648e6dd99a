import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { connect } from 'amqplib';
import { loadConfig } from '@nightshift/core';
import { closeConnections, connectionsNamed, eventually, randomPrefix, requireServices } from '@nightshift/test-helpers';
import { Broker, brokerOptions, EventPublisher, parseEvents, type LifecycleEvent } from '@nightshift/broker';

test('events published while the connection is lost are held and sent after the reconnect, not dropped', async () => {
  const { amqpUrl } = await requireServices('rabbitmq');
  const config = loadConfig({ NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_PREFIX: randomPrefix('events') });
  const name = `nightshift events-held ${randomUUID().slice(0, 8)}`;
  const broker = await Broker.connect(brokerOptions(config, name));
  const tapConnection = await connect(amqpUrl);
  try {
    const tap = await tapConnection.createChannel();
    const { queue } = await tap.assertQueue('', { exclusive: true, autoDelete: true });
    await tap.bindQueue(queue, broker.names.events, 'task.#');
    const received: LifecycleEvent[] = [];
    await tap.consume(queue, (message) => { if (message) received.push(...parseEvents(message.content)); }, { noAck: true });

    const events = new EventPublisher(broker);
    await events.ready();
    events.publish('task.started', { id: 'before' });
    await eventually('the event sent before the loss', () => received.some((e) => e.id === 'before'), 10_000);

    // As an attempt that finishes during a connection blip: its outcome's event is published while the broker is away.
    const generation = broker.generation;
    const lost = new Promise<void>((resolve) => broker.once('disconnect', () => resolve()));
    await closeConnections(await connectionsNamed(name), 'events test: a lost connection');
    await lost;
    for (let i = 0; i < 5; i++) events.publish('task.succeeded', { id: `during-${i}` });
    events.flush();
    await eventually('the broker to reconnect', () => broker.generation > generation, 30_000);
    await eventually('the events published while it was away', () => received.filter((e) => String(e.id).startsWith('during-')).length === 5, 10_000);
    assert.equal(events.dropped, 0);
    await events.close();
  } finally {
    await broker.deleteTopology().catch(() => {});
    await broker.close();
    await tapConnection.close();
  }
});

test('an event JSON cannot hold is dropped and counted; the others of its type are still sent', async () => {
  const { amqpUrl } = await requireServices('rabbitmq');
  const config = loadConfig({ NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_PREFIX: randomPrefix('events') });
  const broker = await Broker.connect(brokerOptions(config, 'events-unwritable'));
  const tapConnection = await connect(amqpUrl);
  try {
    const tap = await tapConnection.createChannel();
    const { queue } = await tap.assertQueue('', { exclusive: true, autoDelete: true });
    await tap.bindQueue(queue, broker.names.events, 'task.#');
    const received: LifecycleEvent[] = [];
    await tap.consume(queue, (message) => { if (message) received.push(...parseEvents(message.content)); }, { noAck: true });

    const events = new EventPublisher(broker);
    await events.ready();
    events.publish('task.succeeded', { id: 'before', result: 1 });
    events.publish('task.succeeded', { id: 'unwritable', result: 1n });
    events.publish('task.succeeded', { id: 'after', result: 2 });
    await eventually('the events that JSON can hold', () => received.filter((e) => e.id === 'before' || e.id === 'after').length === 2, 10_000);
    assert.equal(events.dropped, 1);
    assert.ok(!received.some((e) => e.id === 'unwritable'));
    await events.close();
  } finally {
    await broker.deleteTopology().catch(() => {});
    await broker.close();
    await tapConnection.close();
  }
});
