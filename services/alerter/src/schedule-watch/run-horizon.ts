import { compileRetryPolicy, GLOBAL_DEFAULTS, parseDuration, resolveTaskSettings, type AnyApp, type ResolvedTaskSettings } from '@nightshift/core';
import type { ScheduleEntry } from '@nightshift/schedule';

/**
 * How long after its fire time a run of `entry` may still be waiting, running or retrying: the entry's `expires`,
 * every attempt at the task's hard time limit, and the longest wait before each retry (at least the retry ladder's
 * shortest step). Without the app the task's own settings are unknown and the defaults stand in.
 */
export function entryHorizonMs(app: AnyApp | undefined, entry: ScheduleEntry, shortestRetryStepMs: number): number {
  const task = app?.task(entry.task);
  const settings = app !== undefined && task !== undefined
    ? resolveTaskSettings(app, task)
    : { timeLimitMs: GLOBAL_DEFAULTS.timeLimitMs, retry: compileRetryPolicy() };
  const expiresMs = entry.expires === undefined ? 0 : parseDuration(entry.expires, `schedule "${entry.name}" expires`);
  return runHorizonMs(settings, { expiresMs, shortestRetryStepMs });
}

// The same computation as core's runHorizonMs (on branch wave2/beat-runtime, not on main yet): once it is, this
// function goes and the import above names core's.
function runHorizonMs(settings: Pick<ResolvedTaskSettings, 'timeLimitMs' | 'retry'>, options: { expiresMs: number; shortestRetryStepMs: number }): number {
  const { retry, timeLimitMs } = settings;
  let retryWaitsMs = 0;
  for (let attempt = 1; attempt <= retry.maxRetries; attempt++) retryWaitsMs += Math.max(options.shortestRetryStepMs, retry.backoff.delay(attempt, () => 1));
  return options.expiresMs + (retry.maxRetries + 1) * timeLimitMs + retryWaitsMs;
}
