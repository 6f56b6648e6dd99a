import { Redis } from 'ioredis';
import { Backoff, BrokerUnavailableError, NightshiftError, redactUrl, type AnyApp, type Logger, type NightshiftConfig } from '@nightshift/core';
import { createClient, type Client } from '@nightshift/broker';
import type { BeatSettings } from './options.ts';

// Reconnecting to Redis: 100 ms doubling to 1 s (the client's own reconnect loop asks for each wait).
const REDIS_RECONNECT = new Backoff({ base: 100, factor: 2, max: 1_000, jitter: 0 }, 'beat Redis reconnect');
// Waiting for RabbitMQ before competing for the lease: 1 s doubling to 5 s.
const BROKER_WAIT = new Backoff({ base: 1_000, factor: 2, max: 5_000, jitter: 0 }, 'beat broker wait');

/**
 * A Redis connection for beat: commands fail at once while it is down (no offline queue) and time out
 * within one renewal period, so the lease logic, not a buffered command, decides what happens.
 */
export function connectRedis(url: string, settings: BeatSettings, log: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: settings.renewEveryMs,
    connectTimeout: Math.max(1_000, settings.renewEveryMs),
    retryStrategy: (times: number) => REDIS_RECONNECT.delay(times),
    connectionName: 'nightshift-beat',
  });
  // Outages are reported by the beat (once, with what it means); the client's own errors are detail.
  redis.on('error', (error: Error) => log.debug({ err: { message: error.message }, redis: redactUrl(url) }, 'Redis connection error'));
  return redis;
}

/**
 * Connects beat's broker client, waiting for RabbitMQ as long as it takes (a beat without a broker does not
 * compete for the lease). Each publish waits at most `publishAttemptTimeoutMs`; beat retries within a run's grace.
 * @throws on a fatal broker error (the topology is refused) or when `signal` aborts.
 */
export async function connectBroker(config: NightshiftConfig, app: AnyApp, settings: BeatSettings, log: Logger, signal?: AbortSignal): Promise<Client<AnyApp>> {
  const beatConfig: NightshiftConfig = { ...config, publishTimeoutMs: settings.publishAttemptTimeoutMs };
  for (let attempt = 1; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await createClient(beatConfig, { app, name: 'beat', logger: log });
    } catch (error) {
      if (error instanceof NightshiftError && !(error instanceof BrokerUnavailableError)) throw error;
      if (attempt === 1) log.warn({ err: { message: (error as Error).message }, amqp: redactUrl(config.amqpUrl) }, 'RabbitMQ is unreachable; beat waits for it before competing for the lease');
      await BROKER_WAIT.sleep(attempt, signal);
    }
  }
}
