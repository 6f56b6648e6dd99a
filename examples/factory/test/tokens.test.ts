import assert from 'node:assert/strict';
import { test } from 'node:test';
import { redisClient } from '../src/resources.ts';
import type { FactorySettings } from '../src/settings.ts';
import { cleanupExpiredTokensTask, refreshTokenKeys, storeRefreshToken } from '../src/tokens.ts';
import { isolatedPerTest } from './isolation.ts';
import { taskContext } from './task-context.ts';

const settings = isolatedPerTest();

async function store(s: FactorySettings, id: string, expiresInMs: number): Promise<void> {
  await storeRefreshToken(redisClient(), s.redisPrefix, { id, userId: `user-${id}`, expiresAt: new Date(Date.now() + expiresInMs) });
}

test('deletes expired refresh tokens, key and index entry, and keeps live ones', async () => {
  const s = settings();
  const redis = redisClient();
  const keys = refreshTokenKeys(s.redisPrefix);
  for (const id of ['old-1', 'old-2', 'old-3']) await store(s, id, -60_000);
  for (const id of ['live-1', 'live-2']) await store(s, id, 3_600_000);

  const task = cleanupExpiredTokensTask(s);
  const { ctx } = taskContext(task.name);
  assert.deepEqual(await task.run(ctx), { deleted: 3, complete: true });

  assert.deepEqual((await redis.zrange(keys.expiry, '0', '-1')).sort(), ['live-1', 'live-2']);
  for (const id of ['old-1', 'old-2', 'old-3']) assert.equal(await redis.exists(keys.token(id)), 0, id);
  assert.deepEqual(await redis.hgetall(keys.token('live-1')), { userId: 'user-live-1', expiresAt: await redis.zscore(keys.expiry, 'live-1') });

  assert.deepEqual(await task.run(taskContext(task.name).ctx), { deleted: 0, complete: true }, 'a second run finds nothing');
});

test('works through more expired tokens than one batch', async () => {
  const s = settings();
  const redis = redisClient();
  const keys = refreshTokenKeys(s.redisPrefix);
  const pipeline = redis.pipeline();
  const expiresAt = Date.now() - 1_000;
  for (let i = 0; i < 1_234; i++) {
    pipeline.hset(keys.token(`t${i}`), { userId: 'u', expiresAt: String(expiresAt) }).zadd(keys.expiry, expiresAt, `t${i}`);
  }
  await pipeline.exec();
  await store(s, 'live', 60_000);

  const task = cleanupExpiredTokensTask(s);
  assert.deepEqual(await task.run(taskContext(task.name).ctx), { deleted: 1_234, complete: true });
  assert.equal(await redis.zcard(keys.expiry), 1);
});

test('stops at once when the signal has aborted, and says the run is incomplete', async () => {
  const s = settings();
  await store(s, 'old', -1_000);
  const task = cleanupExpiredTokensTask(s);
  const { ctx, controller } = taskContext(task.name);
  controller.abort(new Error('revoked'));
  assert.deepEqual(await task.run(ctx), { deleted: 0, complete: false });
  assert.equal(await redisClient().zcard(refreshTokenKeys(s.redisPrefix).expiry), 1);
});
