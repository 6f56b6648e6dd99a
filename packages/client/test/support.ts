import { connect, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { Redis } from 'ioredis';
import { decode, defineApp, defineTask, loadConfig, type NightshiftConfig, type TaskEnvelope } from '@nightshift/core';
import { createClient, type NightshiftClient } from '@nightshift/client';
import { migrate, Store } from '@nightshift/store';
import { randomPrefix, removePrefix, requireServices } from '@nightshift/test-helpers';

export const generate = defineTask({ name: 'reports.generate', queue: 'reports', softTimeLimit: '1s', timeLimit: '2s', retry: { maxRetries: 1, base: '1s', max: '1s' }, run: (_ctx, _kind: string) => 'done' });
export const tick = defineTask({ name: 'clock.tick', queue: 'ticks', run: () => undefined });
export const app = defineApp({
  name: 'client-test', tasks: [generate, tick], timezone: 'Europe/Berlin',
  schedule: [{ name: 'nightly', task: 'reports.generate', schedule: '0 2 * * *', args: ['daily'] }],
});

export interface Installation {
  readonly config: NightshiftConfig;
  readonly env: Record<string, string>;
  readonly client: NightshiftClient<typeof app>;
  /** Beat's Redis, to read and seed claims. */
  readonly redis: Redis;
  /** What arrives in `<prefix>.q.<queue>` of each queue tapped, from the tap's start. */
  readonly received: Map<string, { envelope: TaskEnvelope; messageId: string | undefined }[]>;
  /** The `beat.dispatched` events published under the prefix. */
  readonly events: Record<string, unknown>[];
  close(): Promise<void>;
}

/** One isolated installation: its own prefix (broker, Redis) and schema, migrated, a client of `app`, taps on its queues. */
export async function installation(label: string): Promise<Installation> {
  const { amqpUrl, redisUrl, databaseUrl } = await requireServices('rabbitmq', 'redis', 'postgres');
  const prefix = randomPrefix(label);
  const env = {
    NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_DATABASE_URL: databaseUrl,
    NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix, NIGHTSHIFT_PUBLISH_TIMEOUT: '5s',
  };
  const config = loadConfig(env);
  const store = new Store({ url: databaseUrl, schema: prefix });
  await migrate(store);
  await store.close();
  const client = await createClient(config, { app, name: 'client-test', env });
  for (const queue of ['reports', 'ticks']) await client.broker.ensureQueue(queue);
  const tap = await tapQueues(config, ['reports', 'ticks']);
  const redis = new Redis(redisUrl);
  return {
    config, env, client, redis, received: tap.received, events: tap.events,
    async close() {
      await client.close();
      await tap.connection.close().catch(() => {});
      redis.disconnect();
      await removePrefix({ amqpUrl, redisUrl, databaseUrl }, prefix);
    },
  };
}

async function tapQueues(config: NightshiftConfig, queues: readonly string[]): Promise<{ connection: ChannelModel; received: Installation['received']; events: Record<string, unknown>[] }> {
  const connection = await connect(config.amqpUrl);
  const channel = await connection.createChannel();
  const received: Installation['received'] = new Map();
  for (const queue of queues) {
    const messages: { envelope: TaskEnvelope; messageId: string | undefined }[] = [];
    received.set(queue, messages);
    await channel.consume(`${config.prefix}.q.${queue}`, (message: ConsumeMessage | null) => {
      if (!message) return;
      const decoded = decode(message.content);
      if (decoded.ok) messages.push({ envelope: decoded.envelope, messageId: message.properties.messageId as string | undefined });
    }, { noAck: true });
  }
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  await channel.bindQueue(queue, `${config.prefix}.events`, 'beat.dispatched');
  const events: Record<string, unknown>[] = [];
  await channel.consume(queue, (message) => {
    if (message) events.push(JSON.parse(message.content.toString('utf8')) as Record<string, unknown>);
  }, { noAck: true });
  return { connection, received, events };
}
