import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, compileRetryPolicy, ConfigError, retryDelay } from '@nightshift/core';

/** An injected source that yields `values` in turn, round and round. */
function scripted(...values: number[]): () => number {
  let next = 0;
  return () => values[next++ % values.length] as number;
}

test('the defaults are 1 s doubling to 30 s, ±20 %, and the compiled options are frozen', () => {
  const backoff = new Backoff();
  assert.deepEqual({ baseMs: backoff.baseMs, factor: backoff.factor, maxMs: backoff.maxMs, jitter: backoff.jitter }, { baseMs: 1_000, factor: 2, maxMs: 30_000, jitter: 0.2 });
  assert.ok(Object.isFrozen(backoff));
  assert.throws(() => { (backoff as { baseMs: number }).baseMs = 1; }, TypeError);
});

test('the delay grows by factor from base and stops at max', () => {
  const tripling = new Backoff({ base: '100ms', factor: 3, max: '2s', jitter: 0 });
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => tripling.delay(n)), [100, 300, 900, 2_000, 2_000]);
  const constant = new Backoff({ base: 250, factor: 1, max: 250, jitter: 0 });
  assert.deepEqual([1, 2, 10].map((n) => constant.delay(n)), [250, 250, 250]);
  assert.equal(tripling.delay(0), 100, 'an attempt below 1 counts as the first');
});

test('jitter spreads each delay by at most ±jitter and never past max', () => {
  const backoff = new Backoff({ base: '1s', max: '3s', jitter: 0.5 });
  assert.equal(backoff.delay(1, () => 0), 500);
  assert.equal(backoff.delay(1, () => 0.5), 1_000);
  assert.equal(backoff.delay(1, () => 1), 1_500);
  assert.equal(backoff.delay(3, () => 1), 3_000, 'capped at max after the spread too');
});

test('the injected source decides each spread, and every delay stays within ±jitter of its step', () => {
  const backoff = new Backoff({ base: '200ms', factor: 2, max: '5s', jitter: 0.2, random: scripted(0, 0.25, 0.5, 0.75, 0.999_999) });
  const delays = Array.from({ length: 10 }, (_, i) => backoff.delay(i + 1));
  //  step:  200   400   800  1600  3200  5000 (capped) …
  assert.deepEqual(delays, [160, 360, 800, 1_760, 3_840, 4_000, 4_500, 5_000, 5_000, 5_000]);
  for (const [i, delay] of delays.entries()) {
    const step = Math.min(5_000, 200 * 2 ** i);
    assert.ok(delay >= step * 0.8 && delay <= Math.min(5_000, step * 1.2), `attempt ${i + 1}: ${delay} ms is outside ${step} ms ±20 %`);
  }
  const again = new Backoff({ base: '200ms', factor: 2, max: '5s', jitter: 0.2, random: scripted(0, 0.25, 0.5, 0.75, 0.999_999) });
  assert.deepEqual(Array.from({ length: 10 }, (_, i) => again.delay(i + 1)), delays, 'the same source gives the same waits');
});

test('task retries use the same formula (retryDelay is Backoff.delay of the policy)', () => {
  const policy = compileRetryPolicy({ base: '1s', max: '10s', jitter: 0.3 });
  assert.ok(policy.backoff instanceof Backoff);
  for (const [attempt, value] of [[1, 0], [2, 0.3], [3, 0.6], [4, 0.9], [5, 0.1], [6, 0.5]] as const) {
    assert.equal(retryDelay(policy, attempt, () => value), policy.backoff.delay(attempt, () => value));
  }
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelay(policy, n, () => 0.5)), [1_000, 2_000, 4_000, 8_000, 10_000]);
});

test('bad options are refused with a ConfigError naming the field', () => {
  const refuses = (options: ConstructorParameters<typeof Backoff>[0], field: string, pattern: RegExp) =>
    assert.throws(() => new Backoff(options, 'beat publish backoff'), (e: unknown) => e instanceof ConfigError && e.field === `beat publish backoff.${field}` && pattern.test(e.message));
  refuses({ base: 'soon' }, 'base', /beat publish backoff\.base: "soon" is not a duration/);
  refuses({ max: -1 }, 'max', /beat publish backoff\.max/);
  refuses({ base: '1m', max: '1s' }, 'max', /max \(1000ms\) must not be below .*base \(60000ms\)/);
  refuses({ factor: 0.5 }, 'factor', /factor: 0\.5 must be a number ≥ 1/);
  refuses({ factor: Number.NaN }, 'factor', /factor/);
  refuses({ jitter: 2 }, 'jitter', /jitter: 2 must be a fraction between 0 and 1/);
  refuses({ random: 0.5 as unknown as () => number }, 'random', /random must be a function/);
});

test('sleep waits the delay of the attempt', async () => {
  const backoff = new Backoff({ base: 20, factor: 2, max: 40, jitter: 0 });
  const started = performance.now();
  await backoff.sleep(2);
  assert.ok(performance.now() - started >= 39, 'slept at least the 40 ms of attempt 2');
});

test('sleep rejects as soon as its signal aborts, and at once when it already has', async () => {
  const backoff = new Backoff({ base: '1h', max: '1h', jitter: 0 });
  const controller = new AbortController();
  const sleeping = backoff.sleep(1, controller.signal);
  queueMicrotask(() => controller.abort(new Error('stopping')));
  // An hour-long timer left behind would also keep this test file from ending.
  await assert.rejects(sleeping, (e: unknown) => e instanceof Error && e.name === 'AbortError');
  await assert.rejects(backoff.sleep(1, AbortSignal.abort()), { name: 'AbortError' });
});
