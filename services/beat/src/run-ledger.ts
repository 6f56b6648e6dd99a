import type { Redis } from 'ioredis';
import type { BeatKeys } from '@nightshift/beat-state';
import type { Lease } from './lease.ts';
import { RedisScript } from './redis-script.ts';

// Every write is fenced by the lease: it happens only while the lease key holds this replica's token, in
// the same atomic script, so a paused old leader that wakes up after a handover cannot claim anything.
const FENCE = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 'not-leader' end`;

/** KEYS: lease, last-run, run claim. ARGV: token, entry, fire time (ms), claim TTL (ms), claim record. */
const CLAIM = new RedisScript(`${FENCE}
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[2]))
if last and tonumber(ARGV[3]) <= last then return 'handled' end
if not redis.call('SET', KEYS[3], ARGV[5], 'NX', 'PX', ARGV[4]) then return 'handled' end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 'claimed'`);

/** KEYS: lease, last-run. ARGV: token, entry, fire time (ms). Moves the watermark forward, never back. */
const ADVANCE = new RedisScript(`${FENCE}
local last = tonumber(redis.call('HGET', KEYS[2], ARGV[2]))
if not last or tonumber(ARGV[3]) > last then redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
return 'ok'`);

/** KEYS: lease, last-run. ARGV: token, entry, now (ms). The watermark, set to now for an entry seen the first time. */
const START = new RedisScript(`${FENCE}
local last = redis.call('HGET', KEYS[2], ARGV[2])
if last then return last end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 'new'`);

export type ClaimResult = 'claimed' | 'handled' | 'not-leader';

/**
 * Beat's state in Redis. The last-run watermark of each entry (the newest fire time handled) is what a
 * restarted or new leader continues from; each run is claimed once by `(entry, fire time)`, and a claim
 * also moves the watermark, so no later leader can claim that run or any before it.
 */
export class RunLedger {
  readonly #redis: Redis;
  readonly #keys: BeatKeys;
  readonly #lease: Lease;
  readonly #claimTtlMs: number;
  readonly #replica: string;

  constructor(redis: Redis, keys: BeatKeys, lease: Lease, claimTtlMs: number, replica: string) {
    this.#redis = redis;
    this.#keys = keys;
    this.#lease = lease;
    this.#claimTtlMs = claimTtlMs;
    this.#replica = replica;
  }

  /**
   * The entry's watermark. An entry Redis has never seen starts from `nowMs`: a first deploy does not
   * fire anything at once. `'not-leader'` when the lease is not ours.
   */
  async start(entry: string, nowMs: number): Promise<{ readonly lastMs: number; readonly isNew: boolean } | 'not-leader'> {
    const result = String(await START.run(this.#redis, [this.#keys.lease, this.#keys.lastRun], [this.#lease.token, entry, nowMs]));
    if (result === 'not-leader') return result;
    return result === 'new' ? { lastMs: nowMs, isNew: true } : { lastMs: Number(result), isNew: false };
  }

  /** Claims one run for this replica; `'handled'` if it (or a later run) was claimed or counted already. */
  async claim(entry: string, scheduledForMs: number): Promise<ClaimResult> {
    const record = JSON.stringify({ by: this.#replica, claimedAt: new Date().toISOString() });
    const keys = [this.#keys.lease, this.#keys.lastRun, this.#keys.run(entry, scheduledForMs)];
    return String(await CLAIM.run(this.#redis, keys, [this.#lease.token, entry, scheduledForMs, this.#claimTtlMs, record])) as ClaimResult;
  }

  /** Marks every run up to `throughMs` handled (sent, or counted missed). */
  async advance(entry: string, throughMs: number): Promise<'ok' | 'not-leader'> {
    return String(await ADVANCE.run(this.#redis, [this.#keys.lease, this.#keys.lastRun], [this.#lease.token, entry, throughMs])) as 'ok' | 'not-leader';
  }

  /** Records on the claim that the run was sent (or why not), for whoever inspects Redis. Never throws. */
  async record(entry: string, scheduledForMs: number, outcome: Record<string, unknown>): Promise<void> {
    const value = JSON.stringify({ by: this.#replica, ...outcome, at: new Date().toISOString() });
    await this.#redis.set(this.#keys.run(entry, scheduledForMs), value, 'KEEPTTL', 'XX').catch(() => {});
  }
}
