import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRetryPolicy, ConfigError, decideRetry, PermanentError, RetryableError, retryDelay, TimeLimitExceeded } from '@nightshift/core';

const noJitter = compileRetryPolicy({ base: '1s', max: '10s', jitter: 0, maxRetries: 5 });

test('the delay doubles from base and stops at max', () => {
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => retryDelay(noJitter, n)), [1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
});

test('jitter spreads the delay by at most ±jitter and never past max', () => {
  const policy = compileRetryPolicy({ base: '1s', max: '3s', jitter: 0.5 });
  assert.equal(retryDelay(policy, 1, () => 0), 500);
  assert.equal(retryDelay(policy, 1, () => 1), 1_500);
  assert.equal(retryDelay(policy, 1, () => 0.5), 1_000);
  assert.equal(retryDelay(policy, 3, () => 1), 3_000, 'capped at max');
});

test('defaults: 3 retries, 1s base, 10m max, 20% jitter; task options override app defaults', () => {
  const policy = compileRetryPolicy();
  assert.equal(policy.maxRetries, 3);
  assert.equal(policy.baseMs, 1_000);
  assert.equal(policy.maxMs, 600_000);
  assert.equal(policy.jitter, 0.2);
  const layered = compileRetryPolicy({ maxRetries: 1 }, 'task', { maxRetries: 7, base: '2s' });
  assert.equal(layered.maxRetries, 1);
  assert.equal(layered.baseMs, 2_000);
});

test('retries until attempts are exhausted', () => {
  const policy = compileRetryPolicy({ maxRetries: 2, jitter: 0 });
  assert.deepEqual(decideRetry(policy, new Error('x'), 1), { retry: true, delayMs: 1_000 });
  assert.deepEqual(decideRetry(policy, new Error('x'), 2), { retry: true, delayMs: 2_000 });
  assert.deepEqual(decideRetry(policy, new Error('x'), 3), { retry: false, reason: 'exhausted' });
});

test('PermanentError is never retried; RetryableError always is, and may set its own delay', () => {
  const policy = compileRetryPolicy({ retryOn: () => false, jitter: 0 });
  assert.deepEqual(decideRetry(policy, new PermanentError('no'), 1), { retry: false, reason: 'permanent' });
  assert.deepEqual(decideRetry(policy, new RetryableError('later', { retryAfterMs: 42 }), 1), { retry: true, delayMs: 42 });
  assert.deepEqual(decideRetry(policy, new Error('x'), 1), { retry: false, reason: 'not-retryable' });
});

test('retryOn by class matches subclasses and errors rebuilt by name', () => {
  class NetworkError extends Error { override name = 'NetworkError'; }
  const policy = compileRetryPolicy({ retryOn: [NetworkError, TimeLimitExceeded], jitter: 0 });
  assert.equal(decideRetry(policy, new NetworkError('reset'), 1).retry, true);
  assert.equal(decideRetry(policy, new TimeLimitExceeded(10), 1).retry, true);
  const rebuilt = Object.assign(new Error('reset'), { name: 'NetworkError' });
  assert.equal(decideRetry(policy, rebuilt, 1).retry, true);
  assert.deepEqual(decideRetry(policy, new TypeError('bug'), 1), { retry: false, reason: 'not-retryable' });
});

test('bad options name the field', () => {
  assert.throws(() => compileRetryPolicy({ maxRetries: -1 }, 'task "a" retry'), (e: unknown) => e instanceof ConfigError && /task "a" retry\.maxRetries/.test(e.message));
  assert.throws(() => compileRetryPolicy({ base: 'soon' }, 'r'), /r\.base: "soon" is not a duration/);
  assert.throws(() => compileRetryPolicy({ jitter: 2 }, 'r'), /r\.jitter/);
  assert.throws(() => compileRetryPolicy({ base: '1m', max: '1s' }, 'r'), /r\.max .* must not be below r\.base/);
});
