import type { Redis } from 'ioredis';
import { leaseToken } from '@nightshift/beat-state';
import { RedisScript } from './redis-script.ts';

const RENEW = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0`);

const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[1])
  return 1
end
return 0`);

/**
 * The beat leader lease: one Redis key, taken with `SET NX PX` and renewed or released by a Lua script only
 * while it still holds this replica's token (the single-instance redlock). It counts as held only until
 * `validUntil`: the time the last successful take or renewal was *sent*, plus the TTL, less a margin for
 * clock drift. A leader that cannot renew therefore stops before Redis could give the lease to another.
 */
export class Lease {
  readonly token: string;
  readonly #redis: Redis;
  readonly #key: string;
  readonly #releasedChannel: string;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #validUntil = 0;

  /** @param keys the lease key, and the channel its release is announced on (`beatKeys`). */
  constructor(redis: Redis, keys: { lease: string; leaseReleased: string }, ttlMs: number, replica: string, now: () => number = Date.now) {
    this.#redis = redis;
    this.#key = keys.lease;
    this.#releasedChannel = keys.leaseReleased;
    this.#ttlMs = ttlMs;
    this.#now = now;
    this.token = leaseToken(replica);
  }

  /** Until when (ms) this replica may act as leader; 0 when it does not hold the lease. */
  get validUntil(): number {
    return this.#validUntil;
  }

  /** Whether this replica may act as leader now. */
  holds(now: number = this.#now()): boolean {
    return now < this.#validUntil;
  }

  /**
   * Renews the lease if held, else tries to take it. Resolves to whether this replica holds it now.
   * @throws whatever Redis throws (unreachable, timeout); `validUntil` is then left as it was, so a
   * leader keeps leading until then, and no longer.
   */
  async refresh(): Promise<boolean> {
    const sentAt = this.#now();
    let held: boolean;
    if (this.#validUntil > 0) {
      // Still our token in Redis means nobody took the lease since, even if our own deadline passed.
      held = (await RENEW.run(this.#redis, [this.#key], [this.token, this.#ttlMs])) === 1;
    } else {
      held = (await this.#redis.set(this.#key, this.token, 'PX', this.#ttlMs, 'NX')) === 'OK';
    }
    this.#validUntil = held ? sentAt + this.#ttlMs - this.#driftMs() : 0;
    return held;
  }

  /**
   * Gives the lease up at once (on a clean stop) and announces it on the release channel, so a replica
   * listening there takes over without waiting for the TTL or for its next try.
   */
  async release(): Promise<void> {
    this.#validUntil = 0;
    await RELEASE.run(this.#redis, [this.#key], [this.token, this.#releasedChannel]);
  }

  /** Forgets the lease locally (Redis will expire it). */
  drop(): void {
    this.#validUntil = 0;
  }

  // Redlock's allowance: 1% of the TTL for clocks running at different speeds, plus 2 ms.
  #driftMs(): number {
    return Math.floor(this.#ttlMs * 0.01) + 2;
  }
}
