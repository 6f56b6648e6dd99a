import { Redis } from 'ioredis';
import { Backoff, redactUrl, type Logger } from '@nightshift/core';
import { beatKeys } from '@nightshift/beat-state';
import type { Broker } from '@nightshift/broker';

const REDIS_RECONNECT = new Backoff({ base: 200, factor: 2, max: 5_000, jitter: 0 }, 'alerter Redis reconnect');

/**
 * What the watch asks of beat's Redis and of RabbitMQ to name an overdue entry's likely cause: whether any beat
 * replica holds the leader lease (a `GET` of beat's own key), and how many consumers a queue has. Each answers
 * `undefined` when it cannot tell (Redis or the broker unreachable): the cause then names something else.
 */
export class BeatAndQueues {
  readonly #redis: Redis;
  readonly #leaseKey: string;
  readonly #broker: Broker;
  readonly #logger: Logger;
  readonly #url: string;
  #redisDown = false;

  constructor(options: { redisUrl: string; prefix: string; broker: Broker; logger: Logger }) {
    this.#leaseKey = beatKeys(options.prefix).lease;
    this.#broker = options.broker;
    this.#logger = options.logger;
    this.#url = options.redisUrl;
    // Fail fast while Redis is down: a round should say "unknown", not wait in an offline queue.
    this.#redis = new Redis(options.redisUrl, {
      enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2_000, connectTimeout: 2_000, lazyConnect: true,
      retryStrategy: (times: number) => REDIS_RECONNECT.delay(times), connectionName: 'nightshift-alerter',
    });
    this.#redis.on('error', (error: Error) => options.logger.debug({ err: { message: error.message }, redis: redactUrl(options.redisUrl) }, 'Redis connection error'));
  }

  /** Whether a beat replica holds the lease; `undefined` when Redis does not answer. */
  async beatLeader(): Promise<boolean | undefined> {
    try {
      if (this.#redis.status === 'wait') await this.#redis.connect();
      const holder = await this.#redis.get(this.#leaseKey);
      if (this.#redisDown) this.#logger.info({ redis: redactUrl(this.#url) }, 'Redis answers again: the beat leader is known to the schedule watch');
      this.#redisDown = false;
      return holder !== null;
    } catch (error) {
      if (!this.#redisDown) this.#logger.warn({ err: { message: (error as Error).message }, redis: redactUrl(this.#url) }, 'Redis is unreachable: the schedule watch cannot tell whether beat leads');
      this.#redisDown = true;
      return undefined;
    }
  }

  /** Consumers of each queue (0 for a queue that does not exist); a queue the broker did not answer for is absent. */
  async consumers(queues: Iterable<string>): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!this.#broker.connected) return out;
    for (const queue of queues) {
      try {
        const info = await this.#broker.withChannel((channel) => channel.checkQueue(this.#broker.names.queue(queue)));
        out.set(queue, info.consumerCount);
      } catch (error) {
        if (/NOT_FOUND|404/.test((error as Error).message)) out.set(queue, 0);
      }
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => undefined);
    else this.#redis.disconnect();
  }
}
