import type { ResolvedTaskSettings } from './app.ts';

/** What bounds how long one run of a task can last, besides its task's settings. */
export interface RunHorizonOptions {
  /**
   * How long the run may wait in its queue before a worker starts it (`expires` of the send or the schedule
   * entry). Default: `0` (a run without `expires` can wait longer; that time is not bounded here).
   */
  readonly expiresMs?: number;
  /**
   * The shortest step of the retry ladder (`NIGHTSHIFT_RETRY_LADDER`): a retry delay shorter than it waits that
   * long. Default: `0`.
   */
  readonly shortestRetryStepMs?: number;
}

/**
 * How long after a run was sent it can still be waiting, running or retrying: its `expires`, plus every attempt
 * running to the hard time limit, plus the longest wait before each retry (the retry policy's delay with its
 * jitter at the top, at least the ladder's shortest step). Past this, a run whose end was never recorded (a
 * lost event, a history not written) is taken as finished: beat's overlap policy is never blocked longer, and a
 * dead man's switch can wait this long before it says a run did not finish.
 *
 * Not counted: a worker crash that redelivers an attempt (each delivery may run to the limit again, up to the
 * queue's delivery limit), a `RetryableError` asking for a longer delay, and time queued behind other work.
 */
export function runHorizonMs(settings: Pick<ResolvedTaskSettings, 'timeLimitMs' | 'retry'>, options: RunHorizonOptions = {}): number {
  const { retry, timeLimitMs } = settings;
  const shortestStep = options.shortestRetryStepMs ?? 0;
  let retryWaitsMs = 0;
  // random() = 1 puts each delay at the top of its jitter (capped at max, as Backoff does).
  for (let attempt = 1; attempt <= retry.maxRetries; attempt++) retryWaitsMs += Math.max(shortestStep, retry.backoff.delay(attempt, () => 1));
  return (options.expiresMs ?? 0) + (retry.maxRetries + 1) * timeLimitMs + retryWaitsMs;
}
