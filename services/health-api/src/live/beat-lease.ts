import { Redis } from 'ioredis';
import { Backoff, redactUrl, type Logger } from '@nightshift/core';
import { beatKeys, leaseHolder } from '@nightshift/beat-state';

// Reconnecting to Redis: 200 ms doubling to 5 s (the client's own reconnect loop asks for each wait).
const REDIS_RECONNECT = new Backoff({ base: 200, factor: 2, max: 5_000, jitter: 0 }, 'health-api Redis reconnect');

/** Who holds beat's leader lease in Redis, as last read. */
export interface LeaseView {
  /** Whether Redis answered the last read. */
  readonly redisUp: boolean;
  /** The replica holding the lease (its token without the random suffix), or `null` when nobody holds it. */
  readonly holder: string | null;
  /** How long the lease has left unless renewed, in ms. */
  readonly expiresInMs: number | null;
  /** ISO 8601: the last read that Redis answered. */
  readonly checkedAt: string | null;
}

/**
 * Reads beat's leader lease (the key every beat replica competes for) without taking part: a `GET` and a
 * `PTTL` per poll. This is who dispatches now, which the last `beat.dispatched` event cannot tell between
 * two runs of a daily schedule.
 */
export class BeatLease {
  #view: LeaseView = { redisUp: false, holder: null, expiresInMs: null, checkedAt: null };
  /** Reads in a row that found nobody holding the lease (a handover leaves it empty for less than one). */
  #emptyReads = 0;
  readonly #redis: Redis;
  readonly #key: string;
  readonly #logger: Logger;
  readonly #url: string;
  #reportedDown = false;

  constructor(url: string, prefix: string, logger: Logger) {
    this.#key = beatKeys(prefix).lease;
    this.#logger = logger;
    this.#url = url;
    // Fail fast while Redis is down: a poll should report "unknown", not wait in an offline queue.
    this.#redis = new Redis(url, {
      enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 2_000, connectTimeout: 2_000, lazyConnect: true,
      retryStrategy: (times: number) => REDIS_RECONNECT.delay(times), connectionName: 'nightshift-health-api',
    });
    this.#redis.on('error', (error: Error) => logger.debug({ err: { message: error.message }, redis: redactUrl(url) }, 'Redis connection error'));
  }

  get view(): LeaseView {
    return this.#view;
  }

  /** Whether Redis said twice in a row that no replica holds the lease: no beat is running or able to lead. */
  get leaderless(): boolean {
    return this.#emptyReads >= 2;
  }

  async poll(): Promise<void> {
    try {
      if (this.#redis.status === 'wait') await this.#redis.connect();
      const replies = await this.#redis.multi().get(this.#key).pttl(this.#key).exec();
      const token = replies?.[0]?.[1];
      const pttl = replies?.[1]?.[1];
      const holder = typeof token === 'string' ? leaseHolder(token) : null;
      this.#view = { redisUp: true, holder, expiresInMs: holder !== null && typeof pttl === 'number' && pttl >= 0 ? pttl : null, checkedAt: new Date().toISOString() };
      this.#emptyReads = holder === null ? this.#emptyReads + 1 : 0;
      if (this.#reportedDown) this.#logger.info({ redis: redactUrl(this.#url) }, 'Redis answers again: the beat leader is known');
      this.#reportedDown = false;
    } catch (error) {
      this.#view = { ...this.#view, redisUp: false };
      if (!this.#reportedDown) this.#logger.warn({ err: { message: (error as Error).message }, redis: redactUrl(this.#url) }, 'Redis is unreachable: the beat leader is unknown until it answers');
      this.#reportedDown = true;
    }
  }

  async close(): Promise<void> {
    if (this.#redis.status === 'ready') await this.#redis.quit().catch(() => undefined);
    else this.#redis.disconnect();
  }
}
