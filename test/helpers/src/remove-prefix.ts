import { Redis } from 'ioredis';
import pg from 'pg';
import type { ServiceUrls } from '@nightshift/test-servers';

/**
 * Deletes everything an installation under `prefix` left on the servers, for suites that run the services
 * as processes and so cannot ask them what they declared: RabbitMQ queues and exchanges named `<prefix>.…`
 * (listed through the management API, which AMQP has no way to do), Redis keys `<prefix>:…`, and the
 * PostgreSQL schema named `prefix`.
 * @throws when the management API cannot list the broker's objects (the plugin is off): say so, don't leak silently.
 */
export async function removePrefix(urls: Pick<ServiceUrls, 'amqpUrl' | 'redisUrl' | 'databaseUrl'>, prefix: string): Promise<void> {
  await removeBrokerObjects(urls.amqpUrl, prefix);
  await removeRedisKeys(urls.redisUrl, prefix);
  const client = new pg.Client({ connectionString: urls.databaseUrl });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS "${prefix.replace(/"/g, '""')}" CASCADE`);
  } finally {
    await client.end();
  }
}

/**
 * Deletes the Redis keys `<prefix>:…` (beat's state, the workers' completion records).
 * @throws when Redis cannot be reached, or does not answer within 5 s.
 */
export async function removeRedisKeys(redisUrl: string, prefix: string): Promise<void> {
  // No ready check (an INFO that a hung server never answers would hold `connect` forever); every command bounded.
  const redis = new Redis(redisUrl, {
    lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, enableReadyCheck: false, connectTimeout: 5_000, commandTimeout: 5_000,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

async function removeBrokerObjects(amqpUrl: string, prefix: string): Promise<void> {
  const amqp = new URL(amqpUrl);
  const base = `http://${amqp.hostname}:15672/api`;
  const vhost = encodeURIComponent(amqp.pathname.length > 1 ? decodeURIComponent(amqp.pathname.slice(1)) : '/');
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(amqp.username || 'guest')}:${decodeURIComponent(amqp.password || 'guest')}`).toString('base64')}`;
  const call = async (method: 'GET' | 'DELETE', path: string): Promise<unknown> => {
    const response = await fetch(`${base}${path}`, { method, headers: { authorization }, signal: AbortSignal.timeout(5_000) });
    if (!response.ok && response.status !== 404) throw new Error(`RabbitMQ management API ${method} ${path}: HTTP ${response.status}`);
    return method === 'GET' ? response.json() : undefined;
  };
  let queues: { name: string }[];
  let exchanges: { name: string }[];
  try {
    queues = (await call('GET', `/queues/${vhost}?columns=name`)) as { name: string }[];
    exchanges = (await call('GET', `/exchanges/${vhost}?columns=name`)) as { name: string }[];
  } catch (error) {
    throw new Error(`cannot list the broker's objects to remove ${prefix}.*: ${(error as Error).message} (enable it: rabbitmq-plugins enable rabbitmq_management)`, { cause: error });
  }
  const ours = (name: string) => name.startsWith(`${prefix}.`);
  for (const { name } of queues.filter((q) => ours(q.name))) await call('DELETE', `/queues/${vhost}/${encodeURIComponent(name)}`);
  for (const { name } of exchanges.filter((e) => ours(e.name))) await call('DELETE', `/exchanges/${vhost}/${encodeURIComponent(name)}`);
}
