import { defineTask } from '@nightshift/core';
import type { Redis } from 'ioredis';
import { redisClient } from './resources.ts';
import type { FactorySettings } from './settings.ts';

/**
 * The Redis key layout of refresh tokens:
 * - `<prefix>:refresh-tokens:expiry`, a sorted set of token ids scored by expiry (epoch ms);
 * - `<prefix>:refresh-token:<id>`, a hash with the token's `userId` and `expiresAt`.
 * Token keys carry no Redis TTL: the index and the keys must go together, which is this task's job.
 */
export function refreshTokenKeys(prefix: string): { readonly expiry: string; token(id: string): string } {
  return { expiry: `${prefix}:refresh-tokens:expiry`, token: (id) => `${prefix}:refresh-token:${id}` };
}

export interface RefreshToken {
  readonly id: string;
  readonly userId: string;
  readonly expiresAt: Date;
}

/** Stores a refresh token (what a login would do); the demo data and the tests use it. */
export async function storeRefreshToken(redis: Redis, prefix: string, token: RefreshToken): Promise<void> {
  const keys = refreshTokenKeys(prefix);
  const expiresAt = token.expiresAt.getTime();
  await redis.multi()
    .hset(keys.token(token.id), { userId: token.userId, expiresAt: String(expiresAt) })
    .zadd(keys.expiry, expiresAt, token.id)
    .exec();
}

// Deletes the given tokens that are still expired, key and index entry together. The score is
// read again here because a token may have been renewed since it was listed.
// KEYS[1] = expiry index, KEYS[2..n] = token keys; ARGV[1] = now (ms), ARGV[2..n] = token ids.
const DELETE_EXPIRED = `
local deleted = 0
for i = 2, #KEYS do
  local score = redis.call('ZSCORE', KEYS[1], ARGV[i])
  if score and tonumber(score) <= tonumber(ARGV[1]) then
    redis.call('DEL', KEYS[i])
    redis.call('ZREM', KEYS[1], ARGV[i])
    deleted = deleted + 1
  end
end
return deleted`;

const BATCH = 500;

export interface CleanupResult {
  /** Tokens deleted in this run. */
  readonly deleted: number;
  /** `false` when the run was cut short (soft time limit, revoke); the next run goes on from there. */
  readonly complete: boolean;
}

/** `tokens.cleanupExpired()`: deletes refresh tokens whose expiry has passed, in batches. */
export function cleanupExpiredTokensTask(settings: FactorySettings) {
  return defineTask({
    name: 'tokens.cleanupExpired',
    queue: 'maintenance',
    softTimeLimit: '2m',
    timeLimit: '3m',
    retry: { maxRetries: 3, base: '5s' },
    async run(ctx): Promise<CleanupResult> {
      const redis = redisClient();
      const keys = refreshTokenKeys(settings.redisPrefix);
      const now = Date.now();
      let deleted = 0;
      let complete = false;
      while (!complete && !ctx.signal.aborted) {
        const ids = await redis.zrangebyscore(keys.expiry, '-inf', now, 'LIMIT', 0, BATCH);
        if (ids.length > 0) {
          const removed = await redis.eval(DELETE_EXPIRED, ids.length + 1, keys.expiry, ...ids.map((id) => keys.token(id)), now, ...ids);
          deleted += Number(removed);
        }
        complete = ids.length < BATCH;
      }
      ctx.log.info({ deleted, complete }, complete ? 'expired refresh tokens deleted' : 'token cleanup cut short; the next run continues');
      return { deleted, complete };
    },
  });
}
