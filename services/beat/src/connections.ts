import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { BrokerUnavailableError, NightshiftError, redactUrl, type AnyApp, type Logger, type NightshiftConfig } from '@nightshift/core';
import { createClient, type Client } from '@nightshift/broker';
import type { BeatSettings } from './options.ts';

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
    retryStrategy: (times: number) => Math.min(100 * times, 1_000),
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
      await sleep(Math.min(1_000 * attempt, 5_000), undefined, { signal });
    }
  }
}
