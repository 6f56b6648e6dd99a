import { connect, type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { loadConfig, type NightshiftConfig } from '@nightshift/core';
import { eventually, randomPrefix, requireServices } from '@nightshift/test-helpers';
import { Broker, brokerOptions } from '@nightshift/broker';

/** A broker under its own random prefix, with a short ladder and delivery limit; `cleanup` deletes what it declared. */
export async function testBroker(overrides: Partial<Record<string, string>> = {}): Promise<{ broker: Broker; config: NightshiftConfig; raw: Channel; cleanup: () => Promise<void> }> {
  const { amqpUrl } = await requireServices('rabbitmq');
  const config = loadConfig({
    NIGHTSHIFT_AMQP_URL: amqpUrl,
    NIGHTSHIFT_PREFIX: randomPrefix('broker'),
    NIGHTSHIFT_RETRY_LADDER: '1s,2s',
    NIGHTSHIFT_DELIVERY_LIMIT: '2',
    NIGHTSHIFT_PUBLISH_TIMEOUT: '10s',
    ...overrides,
  });
  const broker = await Broker.connect(brokerOptions(config, 'broker-test'));
  const connection: ChannelModel = await connect(amqpUrl);
  const raw = await connection.createChannel();
  return {
    broker,
    config,
    raw,
    cleanup: async () => {
      await broker.deleteTopology().catch(() => {});
      await broker.close();
      await connection.close().catch(() => {});
    },
  };
}

/** Polls a queue until a message arrives or `timeoutMs` passes. */
export async function nextMessage(channel: Channel, queue: string, timeoutMs = 10_000): Promise<GetMessage> {
  return eventually(`a message in ${queue}`, () => channel.get(queue, { noAck: true }), timeoutMs, 25);
}

/** Reads every message currently in a queue. */
export async function drain(channel: Channel, queue: string): Promise<GetMessage[]> {
  const messages: GetMessage[] = [];
  for (;;) {
    const message = await channel.get(queue, { noAck: true });
    if (!message) return messages;
    messages.push(message);
  }
}

export function header(message: GetMessage, name: string): unknown {
  const value = message.properties.headers?.[name];
  return Buffer.isBuffer(value) ? value.toString('utf8') : value;
}
