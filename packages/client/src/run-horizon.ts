import { parseDuration, resolveTaskSettings, type AnyApp } from '@nightshift/core';
import type { ScheduleEntry } from '@nightshift/schedule';

/**
 * How long after it was sent a run of `entry` may still be running or retrying: every attempt up to its hard time
 * limit, the longest wait before each retry, and the entry's `expires`. A run sent longer ago than this is taken to
 * have finished even when no event said so (a lost event never blocks an entry's overlap policy for ever).
 */
export function runHorizonMs(app: AnyApp, entry: ScheduleEntry): number {
  const task = app.task(entry.task);
  if (task === undefined) return 0;
  const { timeLimitMs, retry } = resolveTaskSettings(app, task);
  let waits = 0;
  // The longest wait: the jitter's top end (random() → 1).
  for (let n = 1; n <= retry.maxRetries; n += 1) waits += retry.backoff.delay(n, () => 1);
  const expires = entry.expires === undefined ? 0 : parseDuration(entry.expires, `schedule "${entry.name}" expires`);
  return (retry.maxRetries + 1) * timeLimitMs + waits + expires;
}
