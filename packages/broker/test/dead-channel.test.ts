// The deliveries of a channel that died can no longer be settled: each says so (channelLost), its ack or nack
// is not attempted, one info line counts them, and RabbitMQ delivers them again, marked.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { loadConfig } from '@nightshift/core';
import { closeConnections, connectionsNamed, eventually, randomPrefix, requireServices } from '@nightshift/test-helpers';
import { Broker, brokerOptions, type Delivery } from '@nightshift/broker';

test('a lost connection: its deliveries\' channelLost aborts, their acks are not attempted, one info line; RabbitMQ delivers them again', async () => {
  const { amqpUrl } = await requireServices('rabbitmq');
  const config = loadConfig({ NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_PREFIX: randomPrefix('dead-channel') });
  const lines: Array<{ level: string; msg: string }> = [];
  const at = (level: string) => (obj: object | string, msg?: string) => { lines.push({ level, msg: typeof obj === 'string' ? obj : msg ?? '' }); };
  const connectionName = `broker-dead-channel-${randomUUID().slice(0, 8)}`;
  const broker = await Broker.connect(brokerOptions(config, connectionName, { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }));
  try {
    const deliveries: Delivery[] = [];
    await broker.consume('held', (delivery) => { deliveries.push(delivery); }, { prefetch: 10 });
    for (let i = 0; i < 5; i++) await broker.publisher.publish(broker.names.tasks, 'held', Buffer.from(String(i)));
    await eventually('5 deliveries held', () => deliveries.length === 5, 10_000, 10);
    assert.ok(deliveries.every((d) => !d.channelLost.aborted && !d.message.fields.redelivered));

    await closeConnections(await connectionsNamed(connectionName));
    const first = deliveries.slice(0, 5);
    await eventually('every held delivery to know its channel is gone', () => first.every((d) => d.channelLost.aborted), 10_000, 10);
    for (const [i, delivery] of first.entries()) {
      if (i % 2 === 0) delivery.ack();
      else delivery.nack(false); // were it sent, this would dead-letter the message instead of its redelivery
    }
    await eventually('the 5 delivered again', () => deliveries.length === 10, 20_000, 10);
    const again = deliveries.slice(5);
    assert.deepEqual(again.map((d) => d.message.content.toString()).sort(), ['0', '1', '2', '3', '4']);
    for (const delivery of again) {
      assert.equal(delivery.message.fields.redelivered, true);
      assert.ok(Number(delivery.message.properties.headers?.['x-delivery-count'] ?? 0) >= 1);
      assert.equal(delivery.channelLost.aborted, false);
      delivery.ack();
    }
    assert.deepEqual(lines.filter((line) => line.level === 'error'), [], 'nothing tried on the dead channel, nothing to report');
    const dropped = lines.filter((line) => line.msg.startsWith('the channel closed with'));
    assert.deepEqual(dropped.map((line) => line.level), ['info'], 'one line for the batch');
    assert.match(dropped[0]?.msg ?? '', /with 5 deliveries unsettled/);
  } finally {
    await broker.deleteTopology().catch(() => {});
    await broker.close();
  }
});
