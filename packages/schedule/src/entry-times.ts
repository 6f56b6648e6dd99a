import { BadParameterError, parseDuration, resolveTaskSettings, runHorizonMs, type AnyApp } from '@nightshift/core';
import { entryZone, type ScheduleEntry } from './entry.ts';
import { nextFireTime } from './schedule.ts';

/** The next `count` fire times of `entry` after `afterMs`, within its start and end dates (fewer once it ends). */
export function upcomingFireTimes(entry: ScheduleEntry, appZone: string, afterMs: number, count: number): number[] {
  const zone = entryZone(entry, appZone);
  const times: number[] = [];
  let at = entry.startAt !== undefined ? Math.max(afterMs, entry.startAt - 1) : afterMs;
  while (times.length < count) {
    at = nextFireTime(entry.schedule, at, zone);
    if (entry.endAt !== undefined && at > entry.endAt) break;
    times.push(at);
  }
  return times;
}

/**
 * Every fire time of `entry` from `fromMs` through `toMs` (both included), oldest first, within its start and end
 * dates.
 * @throws BadParameterError naming `from` when there are more than `max` (a backfill of a shorter range, please).
 */
export function fireTimesBetween(entry: ScheduleEntry, appZone: string, fromMs: number, toMs: number, max: number): number[] {
  const zone = entryZone(entry, appZone);
  const first = Math.max(fromMs, entry.startAt ?? fromMs);
  const last = Math.min(toMs, entry.endAt ?? toMs);
  const times: number[] = [];
  for (let at = nextFireTime(entry.schedule, first - 1, zone); at <= last; at = nextFireTime(entry.schedule, at, zone)) {
    if (times.length === max) {
      throw new BadParameterError('from', `the range from ${new Date(fromMs).toISOString()} to ${new Date(toMs).toISOString()} holds more than ${max} fire times of "${entry.name}": backfill it in shorter ranges`);
    }
    times.push(at);
  }
  return times;
}

/**
 * How long after it was sent a run of `entry` can still be waiting, running or retrying (core's `runHorizonMs` of its
 * task, with the entry's `expires`): beat's overlap policy never waits longer for it, and the dead man's switch
 * gives a run that long to succeed. 0 for a task the app does not have.
 * @param shortestRetryStepMs the retry ladder's shortest step (`broker.spec.ladderMs[0]`), when known.
 */
export function entryRunHorizonMs(app: AnyApp, entry: ScheduleEntry, shortestRetryStepMs = 0): number {
  const task = app.task(entry.task);
  if (task === undefined) return 0;
  return runHorizonMs(resolveTaskSettings(app, task), {
    expiresMs: entry.expires === undefined ? 0 : parseDuration(entry.expires, `schedule "${entry.name}" expires`),
    shortestRetryStepMs,
  });
}
