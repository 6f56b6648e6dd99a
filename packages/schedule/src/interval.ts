import { ConfigError, parseDuration, type Duration } from '@nightshift/core';

/**
 * Runs every `everyMs`, counted from `anchorMs` in UTC. Not cron: DST never moves it, and the runs are
 * fixed by the schedule alone (not by when the last one was sent), so it cannot drift, and every beat
 * replica agrees on each run's time.
 */
export interface IntervalSchedule {
  readonly kind: 'nightshift.schedule';
  readonly type: 'interval';
  readonly everyMs: number;
  /** The origin runs are counted from, ms since the Unix epoch. */
  readonly anchorMs: number;
}

/** An interval in parts: `{ seconds: 30 }`, `{ hours: 1, minutes: 30 }`. */
export interface IntervalParts {
  readonly days?: number;
  readonly hours?: number;
  readonly minutes?: number;
  readonly seconds?: number;
  readonly milliseconds?: number;
}

export interface EveryOptions {
  /**
   * The origin runs are counted from: a run falls on `anchor + k × interval`. Default: the Unix epoch
   * (1970-01-01T00:00:00Z), so `every('5m')` fires at :00, :05, :10 … UTC and `every('1d')` at 00:00 UTC.
   */
  readonly anchor?: Date | string;
}

/** The shortest interval: beat claims each run by its time, and one second is the finest it promises. */
export const MIN_INTERVAL_MS = 1_000;

const PART_MS: Readonly<Record<keyof IntervalParts, number>> = { days: 86_400_000, hours: 3_600_000, minutes: 60_000, seconds: 1_000, milliseconds: 1 };

/**
 * An interval schedule: `every('5m')`, `every({ seconds: 30 })`, `every('1h', { anchor: '2025-01-01T00:30:00Z' })`.
 * @param where names the entry in errors. Default: `'every'`.
 * @throws ConfigError naming the value when it is not a duration of at least one second.
 */
export function every(interval: Duration | IntervalParts, options: EveryOptions = {}, where = 'every'): IntervalSchedule {
  const everyMs = typeof interval === 'object' && interval !== null ? fromParts(interval, where) : parseDuration(interval, where);
  if (!Number.isInteger(everyMs) || everyMs < MIN_INTERVAL_MS) {
    throw new ConfigError(`${where}: ${JSON.stringify(interval)} is shorter than the shortest interval, 1s`, { field: 'schedule' });
  }
  let anchorMs = 0;
  if (options.anchor !== undefined) {
    anchorMs = options.anchor instanceof Date ? options.anchor.getTime() : Date.parse(options.anchor);
    if (Number.isNaN(anchorMs)) throw new ConfigError(`${where}: anchor ${JSON.stringify(options.anchor)} is not a time (use an ISO 8601 time such as '2025-01-01T00:30:00Z')`, { field: 'schedule' });
  }
  return Object.freeze({ kind: 'nightshift.schedule', type: 'interval', everyMs, anchorMs });
}

function fromParts(parts: IntervalParts, where: string): number {
  const keys = Object.keys(parts);
  const unknown = keys.find((key) => !Object.hasOwn(PART_MS, key));
  if (unknown !== undefined) throw new ConfigError(`${where}: unknown interval part ${JSON.stringify(unknown)} (parts: ${Object.keys(PART_MS).join(', ')})`, { field: 'schedule' });
  if (keys.length === 0) throw new ConfigError(`${where}: an interval needs at least one part, e.g. { seconds: 30 }`, { field: 'schedule' });
  let total = 0;
  for (const key of keys as (keyof IntervalParts)[]) {
    const value: unknown = parts[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ConfigError(`${where}: ${key} ${JSON.stringify(value)} must be a number ≥ 0`, { field: 'schedule' });
    total += value * PART_MS[key];
  }
  return Math.round(total);
}

/** The first run strictly after `afterMs`. */
export function intervalNext(schedule: IntervalSchedule, afterMs: number): number {
  const { everyMs, anchorMs } = schedule;
  return anchorMs + (Math.floor((afterMs - anchorMs) / everyMs) + 1) * everyMs;
}

/** The newest run at or before `untilMs`. */
export function intervalLatest(schedule: IntervalSchedule, untilMs: number): number {
  const { everyMs, anchorMs } = schedule;
  return anchorMs + Math.floor((untilMs - anchorMs) / everyMs) * everyMs;
}
