import { Redis } from 'ioredis';
import { Backoff, redactUrl, revokedKey, type Logger } from '@nightshift/core';

/** Ids remembered from control broadcasts, beyond those read from Redis. */
const REMEMBERED_HERE = 10_000;
/** How often the revokes kept in Redis are read again (a broadcast this worker missed while reconnecting). */
const RESYNC_MS = 10_000;
/** How long start-up waits for Redis before the worker takes tasks with the revokes it heard of only. */
const LOAD_WAIT_MS = 2_000;
const RECONNECT = new Backoff({ base: 200, factor: 2, max: 5_000, jitter: 0.2 }, 'worker Redis reconnect (revokes)');

export interface RevocationsOptions {
  /** `NIGHTSHIFT_REDIS_URL`. */
  readonly redisUrl: string;
  /** `NIGHTSHIFT_PREFIX`. */
  readonly prefix: string;
  readonly log: Logger;
}

/**
 * The task ids this worker skips: revokes it heard by broadcast, and every revoke kept in Redis (`revokedKey`,
 * written by whoever revoked, with an expiry beyond the retry horizon), read at start and every 10 s. A delivery
 * is checked against memory only: no task waits for Redis. While Redis is unreachable the worker goes on with
 * what it knows (logged once).
 */
export class Revocations {
  readonly #here = new Set<string>();
  #kept = new Set<string>();
  readonly #redis: Redis;
  readonly #pattern: string;
  readonly #prefixLength: number;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #warned = false;

  constructor(options: RevocationsOptions) {
    this.#log = options.log;
    const key = revokedKey(options.prefix, '');
    this.#pattern = `${key}*`;
    this.#prefixLength = key.length;
    this.#redis = new Redis(options.redisUrl, {
      lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0, commandTimeout: 2_000, connectTimeout: 2_000,
      retryStrategy: (times: number) => RECONNECT.delay(times), connectionName: 'nightshift-worker-revokes',
    });
    this.#redis.on('error', (error: Error) => this.#log.debug({ err: { message: error.message }, redis: redactUrl(options.redisUrl) }, 'Redis connection error (revokes)'));
  }

  /** Reads the kept revokes (waiting at most 2 s for Redis), then again every 10 s. */
  async start(): Promise<void> {
    await Promise.race([this.#redis.connect().then(() => this.#resync(), () => this.#unreadable()), new Promise((resolve) => setTimeout(resolve, LOAD_WAIT_MS).unref())]);
    this.#timer = setInterval(() => void this.#resync(), RESYNC_MS);
    this.#timer.unref();
  }

  has(id: string): boolean {
    return this.#here.has(id) || this.#kept.has(id);
  }

  /** A revoke heard by broadcast (its sender has kept it in Redis). */
  add(id: string): void {
    this.#here.add(id);
    if (this.#here.size > REMEMBERED_HERE) this.#here.delete(this.#here.values().next().value as string);
  }

  get size(): number {
    return new Set([...this.#here, ...this.#kept]).size;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#redis.disconnect();
  }

  async #resync(): Promise<void> {
    if (this.#redis.status !== 'ready') return;
    try {
      const found = new Set<string>();
      let cursor = '0';
      do {
        const [next, keys] = await this.#redis.scan(cursor, 'MATCH', this.#pattern, 'COUNT', 1000);
        cursor = next;
        for (const key of keys) found.add(key.slice(this.#prefixLength));
      } while (cursor !== '0');
      this.#kept = found;
      if (this.#warned) this.#log.info({ revoked: found.size }, 'revokes kept in Redis are read again');
      this.#warned = false;
    } catch {
      this.#unreadable();
    }
  }

  #unreadable(): void {
    if (this.#warned) return;
    this.#warned = true;
    this.#log.warn({}, 'cannot read the revokes kept in Redis: this worker skips only the revokes it has heard of since it started');
  }
}
