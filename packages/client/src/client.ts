import { Redis } from 'ioredis';
import { Backoff, ConfigError, redactUrl, type AnyApp, type NightshiftConfig } from '@nightshift/core';
import { createClient as createBrokerClient, type Client, type ClientOptions } from '@nightshift/broker';
import { Store, storeOptions } from '@nightshift/store';
import { ScheduleOperations } from './schedule-operations.ts';

export interface NightshiftClientOptions<A extends AnyApp> extends ClientOptions<A> {
  /** The app: `send` takes its task names, and `schedules` operates its schedule. Required. */
  readonly app: A;
  /** The environment `NIGHTSHIFT_DATABASE_SCHEMA` is read from. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A broker client of the app that also operates the app's schedules. */
export interface NightshiftClient<A extends AnyApp> extends Client<A> {
  /**
   * The app's schedules (`list`, `get`, `create`, `update`, `remove`, `pause`, `resume`, `runNow`, `backfill`,
   * `history`). PostgreSQL and Redis are connected on first use; `close` closes them.
   */
  readonly schedules: ScheduleOperations;
}

const REDIS_RECONNECT = new Backoff({ base: 200, factor: 2, max: 5_000, jitter: 0.2 }, 'client Redis reconnect');

/**
 * Connects a producer of the app (as `@nightshift/broker`'s `createClient`), with `schedules` to operate the app's
 * schedule: the same operations, validation and errors as the CLI, the REST API and the dashboard.
 * @throws ConfigError when `app` is missing or its schedule is invalid.
 */
export async function createClient<A extends AnyApp>(config: NightshiftConfig, options: NightshiftClientOptions<A>): Promise<NightshiftClient<A>> {
  if (options?.app === undefined) {
    throw new ConfigError('createClient: app is required (the app whose tasks are sent and whose schedule is operated)', { field: 'app' });
  }
  const name = options.name ?? 'client';
  const client = await createBrokerClient(config, options);
  // Neither connects before its first use: the pool opens a connection for its first query, Redis for its first command.
  const store = new Store({ ...storeOptions(config, options.env ?? process.env, `nightshift ${name}`), maxConnections: 2 });
  // A command fails after one reconnect attempt rather than wait for ever.
  const redis = new Redis(config.redisUrl, {
    lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000, commandTimeout: 5_000,
    retryStrategy: (times: number) => REDIS_RECONNECT.delay(times), connectionName: `nightshift-${name}`,
  });
  redis.on('error', (error: Error) => client.broker.log.debug({ err: { message: error.message }, redis: redactUrl(config.redisUrl) }, 'Redis connection error'));
  const closeConnections = async () => {
    await store.close();
    if (redis.status === 'wait' || redis.status === 'end') redis.disconnect();
    else await redis.quit().catch(() => redis.disconnect());
  };
  let schedules: ScheduleOperations;
  try {
    schedules = new ScheduleOperations({ app: options.app, store, redis, client: client as unknown as Client<AnyApp>, prefix: config.prefix });
  } catch (error) {
    await closeConnections();
    await client.close();
    throw error;
  }
  return {
    broker: client.broker,
    send: client.send,
    schedules,
    close: async () => {
      await client.close();
      await closeConnections();
    },
  };
}
