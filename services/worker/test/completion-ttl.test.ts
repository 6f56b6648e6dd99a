// How long a completion record is kept, and the settings that decide it: pure, no server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineApp, defineTask, resolveTaskSettings } from '@nightshift/core';
import { compileWorkerOptions, completionKeys, completionTtlMs, loadWorkerConfig } from '@nightshift/worker';

const run = () => 1;
const DAY = 24 * 3_600_000;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

test('a record outlives its task\'s run horizon: hard limit × attempts + the longest wait before each retry, at least the floor', () => {
  const everyday = defineTask({ name: 'everyday', run }); // 330 s hard limit, 3 retries from 1 s doubling, ±20 %
  const patient = defineTask({ name: 'patient', softTimeLimit: '20m', timeLimit: '25m', retry: { maxRetries: 30, base: '1m', max: '1h', jitter: 0.2 }, run });
  const app = defineApp({ name: 'a', tasks: [everyday, patient] });
  // 4 × 330 s + 1.2 s + 2.4 s + 4.8 s: 22 minutes, well inside the floor.
  assert.equal(completionTtlMs(resolveTaskSettings(app, everyday), DAY), DAY);
  assert.equal(completionTtlMs(resolveTaskSettings(app, everyday), 60_000), 4 * 330_000 + 1_200 + 2_400 + 4_800);
  // 31 × 25 min; waits of 1.2, 2.4, 4.8, 9.6, 19.2, 38.4 min, then 24 at the 1 h cap (jitter cannot pass it): 38.2 h.
  const minute = 60_000;
  assert.equal(completionTtlMs(resolveTaskSettings(app, patient), DAY), 31 * 25 * minute + 75.6 * minute + 24 * 60 * minute);
  // No retry waits less than the ladder's shortest step: 3 waits of 5 s rather than 1.2, 2.4 and 4.8.
  assert.equal(completionTtlMs(resolveTaskSettings(app, everyday), 60_000, 5_000), 4 * 330_000 + 3 * 5_000);
});

test('NIGHTSHIFT_COMPLETION_*: on with Redis by default, a day, 250 ms, a 15 s claim lease; off leaves Redis out; bad values are named', () => {
  const app = defineApp({ name: 'a', tasks: [defineTask({ name: 'x', run })] });
  const byDefault = compileWorkerOptions(app, { appPath: 'a' }, loadWorkerConfig({ NIGHTSHIFT_REDIS_URL: 'redis://cache:6379' }), quiet).completionRecords;
  assert.deepEqual(byDefault, { redisUrl: 'redis://cache:6379', ttlFloorMs: DAY, shortestRetryStepMs: 1_000, timeoutMs: 250, leaseMs: 15_000, rescueAfterMs: 15_000 });
  const off = loadWorkerConfig({ NIGHTSHIFT_COMPLETION_RECORDS: 'off', NIGHTSHIFT_COMPLETION_TTL: '2d', NIGHTSHIFT_COMPLETION_TIMEOUT: '50ms', NIGHTSHIFT_COMPLETION_LEASE: '3s', NIGHTSHIFT_RETRY_LADDER: '5s,1m' });
  assert.deepEqual(compileWorkerOptions(app, { appPath: 'a' }, off, quiet).completionRecords, { redisUrl: undefined, ttlFloorMs: 2 * DAY, shortestRetryStepMs: 5_000, timeoutMs: 50, leaseMs: 3_000, rescueAfterMs: 15_000 });
  assert.throws(() => loadWorkerConfig({ NIGHTSHIFT_COMPLETION_RECORDS: 'maybe', NIGHTSHIFT_COMPLETION_TTL: '10s', NIGHTSHIFT_COMPLETION_TIMEOUT: 'soon', NIGHTSHIFT_COMPLETION_LEASE: '10ms' }), (error: Error) =>
    /NIGHTSHIFT_COMPLETION_RECORDS: "maybe" must be 1 or 0/.test(error.message) && /NIGHTSHIFT_COMPLETION_TTL: must be at least 60000ms/.test(error.message)
    && /NIGHTSHIFT_COMPLETION_TIMEOUT: "soon" is not a duration/.test(error.message) && /NIGHTSHIFT_COMPLETION_LEASE: must be at least 1000ms/.test(error.message));
});

test('NIGHTSHIFT_RETRY_RESCUE_AFTER: 15 s by default, any duration from 1 s; bad values are named', () => {
  const app = defineApp({ name: 'a', tasks: [defineTask({ name: 'x', run })] });
  const set = loadWorkerConfig({ NIGHTSHIFT_REDIS_URL: 'redis://cache:6379', NIGHTSHIFT_RETRY_RESCUE_AFTER: '2m' });
  assert.equal(compileWorkerOptions(app, { appPath: 'a' }, set, quiet).completionRecords.rescueAfterMs, 120_000);
  assert.throws(() => loadWorkerConfig({ NIGHTSHIFT_RETRY_RESCUE_AFTER: '10ms' }), /NIGHTSHIFT_RETRY_RESCUE_AFTER: must be at least 1000ms/);
  assert.throws(() => loadWorkerConfig({ NIGHTSHIFT_RETRY_RESCUE_AFTER: 'later' }), /NIGHTSHIFT_RETRY_RESCUE_AFTER: "later" is not a duration/);
});

test('records are keyed by prefix, task message id and attempt', () => {
  const keys = completionKeys('shop');
  assert.equal(keys.attempt('3f2a', 2), 'shop:completed:3f2a:2');
  assert.equal(keys.pattern, 'shop:completed:*');
  assert.equal(keys.running('3f2a', 2), 'shop:running:3f2a:2', 'the in-flight claim of that attempt');
});
