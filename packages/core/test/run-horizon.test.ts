import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRetryPolicy, defineApp, defineTask, resolveTaskSettings, runHorizonMs } from '@nightshift/core';

test('the horizon is every attempt at the hard limit plus the longest wait before each retry plus expires', () => {
  const retry = compileRetryPolicy({ maxRetries: 2, base: '1s', max: '10s', jitter: 0.5 });
  // Attempts: 3 × 60 s. Retry waits at the top of their jitter: 1.5 s, 3 s.
  assert.equal(runHorizonMs({ timeLimitMs: 60_000, retry }), 3 * 60_000 + 1_500 + 3_000);
  assert.equal(runHorizonMs({ timeLimitMs: 60_000, retry }, { expiresMs: 30_000 }), 30_000 + 3 * 60_000 + 1_500 + 3_000);
});

test('a retry delay never exceeds max, and never waits less than the ladder\'s shortest step', () => {
  const retry = compileRetryPolicy({ maxRetries: 3, base: '4s', max: '5s', jitter: 0.2 });
  assert.equal(runHorizonMs({ timeLimitMs: 1_000, retry }), 4 * 1_000 + 4_800 + 5_000 + 5_000);
  const fast = compileRetryPolicy({ maxRetries: 2, base: '100ms', max: '100ms', jitter: 0 });
  assert.equal(runHorizonMs({ timeLimitMs: 1_000, retry: fast }, { shortestRetryStepMs: 1_000 }), 3 * 1_000 + 2 * 1_000);
});

test('without retries the horizon is one attempt; from an app\'s resolved settings (defaults: 330 s, 3 retries)', () => {
  assert.equal(runHorizonMs({ timeLimitMs: 2_000, retry: compileRetryPolicy({ maxRetries: 0 }) }), 2_000);
  const task = defineTask({ name: 'reports.daily', run: () => undefined });
  const app = defineApp({ name: 'horizon', tasks: [task] });
  // Default retry: 1 s, 2 s, 4 s at +20 %.
  assert.equal(runHorizonMs(resolveTaskSettings(app, task)), 4 * 330_000 + 1_200 + 2_400 + 4_800);
});
