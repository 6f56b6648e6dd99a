import { hostname } from 'node:os';
import { Redis } from 'ioredis';
import { Backoff, redactUrl, type AnyApp, type Logger } from '@nightshift/core';
import { buildEnvelope, sendEnvelope, type Broker, type Client, type EventPublisher } from '@nightshift/broker';
import { ScheduleOperations } from '@nightshift/client';
import type { Store } from '@nightshift/store';

const REDIS_RECONNECT = new Backoff({ base: 200, factor: 2, max: 5_000, jitter: 0 }, 'health-api schedules Redis reconnect');

export interface RoomSchedulesOptions {
  readonly app: AnyApp;
  readonly broker: Broker;
  readonly events: EventPublisher;
  readonly store: Store;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly logger: Logger;
}

/**
 * The schedule operations of the API and the dashboard: the same `ScheduleOperations` as the client library and
 * the CLI, over the health-api's own broker connection and event publisher, and a Redis connection of their own
 * for the claims (connected on first use; a command fails fast while Redis is down rather than wait in a queue).
 */
export function roomSchedules(options: RoomSchedulesOptions): { readonly schedules: ScheduleOperations; close(): Promise<void> } {
  const { app, broker, events, logger } = options;
  const redis = new Redis(options.redisUrl, {
    lazyConnect: true, enableOfflineQueue: true, maxRetriesPerRequest: 1, connectTimeout: 2_000, commandTimeout: 5_000,
    retryStrategy: (times: number) => REDIS_RECONNECT.delay(times), connectionName: 'nightshift-health-api-schedules',
  });
  redis.on('error', (error: Error) => logger.debug({ err: { message: error.message }, redis: redactUrl(options.redisUrl) }, 'Redis connection error (schedules)'));
  const producer = `health-api@${hostname()}`;
  // A client of the app over the connection the health-api has: runs are sent by task name with the app's settings.
  const client = {
    broker,
    send: (async (task: string, args: readonly unknown[], sendOptions = {}) => {
      const envelope = buildEnvelope(app, task, args, sendOptions, producer);
      await sendEnvelope(broker, envelope, events);
      return envelope.id;
    }) as Client<AnyApp>['send'],
    close: async () => {},
  };
  return {
    schedules: new ScheduleOperations({ app, store: options.store, redis, client, prefix: options.prefix }),
    close: async () => {
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}
