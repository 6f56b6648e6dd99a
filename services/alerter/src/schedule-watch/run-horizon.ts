import { compileRetryPolicy, GLOBAL_DEFAULTS, parseDuration, runHorizonMs, type AnyApp } from '@nightshift/core';
import { entryRunHorizonMs, type ScheduleEntry } from '@nightshift/schedule';

/**
 * How long after its fire time a run of `entry` may still be waiting, running or retrying (`entryRunHorizonMs`, as
 * beat's overlap policy has it). Without the app, or for a task the app does not have, its settings are unknown and
 * the defaults stand in (the global time limit, the default retry policy).
 */
export function entryHorizonMs(app: AnyApp | undefined, entry: ScheduleEntry, shortestRetryStepMs: number): number {
  if (app?.task(entry.task) !== undefined) return entryRunHorizonMs(app, entry, shortestRetryStepMs);
  const expiresMs = entry.expires === undefined ? 0 : parseDuration(entry.expires, `schedule "${entry.name}" expires`);
  return runHorizonMs({ timeLimitMs: GLOBAL_DEFAULTS.timeLimitMs, retry: compileRetryPolicy() }, { expiresMs, shortestRetryStepMs });
}
