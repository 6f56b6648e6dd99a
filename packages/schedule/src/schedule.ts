import { ConfigError, type Duration } from '@nightshift/core';
import { cron, cronLatest, cronNext, type CronSchedule } from './cron.ts';
import { every, intervalLatest, intervalNext, type IntervalParts, type IntervalSchedule } from './interval.ts';

/** When an entry fires: an interval (`every('5m')`) or a cron schedule (`'0 9 * * mon-fri'`, `crontab({ … })`). */
export type Schedule = IntervalSchedule | CronSchedule;

/** What a schedule entry's `schedule` may be written as. */
export type ScheduleInput = Schedule | string | { readonly every: Duration | IntervalParts; readonly anchor?: Date | string };

export function isSchedule(value: unknown): value is Schedule {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'nightshift.schedule';
}

/**
 * Reads a schedule as an app writes it: a five-field cron string, `{ every: '5m' }` (optionally with an
 * `anchor`), or a schedule made with `every()`, `cron()` or `crontab()` (rebuilt here, so one made by
 * another copy of this package is checked the same way).
 * @param where names the entry in errors.
 * @throws ConfigError saying what is wrong.
 */
export function toSchedule(input: unknown, where: string): Schedule {
  if (typeof input === 'string') return cron(input, where);
  if (isSchedule(input)) {
    const candidate = input as { type?: unknown; everyMs?: unknown; anchorMs?: unknown; expression?: unknown };
    if (candidate.type === 'interval' && typeof candidate.everyMs === 'number' && typeof candidate.anchorMs === 'number') {
      return every(candidate.everyMs, { anchor: new Date(candidate.anchorMs) }, where);
    }
    if (candidate.type === 'cron' && typeof candidate.expression === 'string') return cron(candidate.expression, where);
  } else if (typeof input === 'object' && input !== null && 'every' in input) {
    const { every: interval, anchor, ...rest } = input as { every: Duration | IntervalParts; anchor?: Date | string };
    const extra = Object.keys(rest);
    if (extra.length > 0) throw new ConfigError(`${where}: unknown field ${JSON.stringify(extra[0])} next to "every" (only "anchor" may go with it)`, { field: 'schedule' });
    return every(interval, anchor === undefined ? {} : { anchor }, where);
  }
  throw new ConfigError(
    `${where}: schedule must be a cron string such as '0 */3 * * *', { every: '5m' }, every(…), cron(…) or crontab(…); got ${describeValue(input)}`,
    { field: 'schedule' },
  );
}

/**
 * The first fire time strictly after `afterMs`. Cron schedules are read in `zone` (an IANA name) with the
 * DST rules of `CronSchedule.fixedTime`; interval schedules ignore the zone.
 * @throws ConfigError when a cron schedule's `zone` is empty or unknown (never the machine's zone by default).
 */
export function nextFireTime(schedule: Schedule, afterMs: number, zone: string): number {
  if (schedule.type === 'interval') return intervalNext(schedule, afterMs);
  const next = cronNext(schedule, afterMs, zone);
  if (next === undefined) throw new Error(`cron ${JSON.stringify(schedule.expression)} has no fire time after ${new Date(afterMs).toISOString()}`);
  return next;
}

/** The next `count` fire times after `afterMs`. */
export function nextFireTimes(schedule: Schedule, afterMs: number, zone: string, count: number): number[] {
  const times: number[] = [];
  for (let at = afterMs; times.length < count;) times.push((at = nextFireTime(schedule, at, zone)));
  return times;
}

/** The fire times that came due in a window: the newest few, and how many in all. */
export interface DueRuns {
  /** Up to `keep` of the newest fire times in the window, oldest first. */
  readonly newest: readonly number[];
  /** How many fire times fell in the window (a lower bound when `atLeast`). */
  readonly total: number;
  /** The count stopped at `MAX_COUNTED_RUNS`: there were at least `total`. */
  readonly atLeast: boolean;
}

/** A cron schedule is counted one run at a time; past this many, a count says "at least". */
export const MAX_COUNTED_RUNS = 10_000;

/** The fire times in `(afterMs, untilMs]`: the newest `keep` of them and their number. */
export function dueRuns(schedule: Schedule, afterMs: number, untilMs: number, zone: string, keep: number): DueRuns {
  if (untilMs <= afterMs || keep < 1) return { newest: [], total: 0, atLeast: false };
  if (schedule.type === 'interval') {
    const latest = intervalLatest(schedule, untilMs);
    const first = intervalNext(schedule, afterMs);
    if (latest < first) return { newest: [], total: 0, atLeast: false };
    const total = (latest - first) / schedule.everyMs + 1;
    const newest: number[] = [];
    for (let at = Math.max(first, latest - (keep - 1) * schedule.everyMs); at <= latest; at += schedule.everyMs) newest.push(at);
    return { newest, total, atLeast: false };
  }
  const newest = cronLatest(schedule, untilMs, zone, keep).filter((at) => at > afterMs).reverse();
  if (newest.length < keep) return { newest, total: newest.length, atLeast: false };
  let total = 0;
  for (let at = cronNext(schedule, afterMs, zone); at !== undefined && at <= untilMs; at = cronNext(schedule, at, zone)) {
    if (++total >= MAX_COUNTED_RUNS) return { newest, total, atLeast: true };
  }
  return { newest, total: Math.max(total, newest.length), atLeast: false };
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return `an object with ${Object.keys(value).map((key) => JSON.stringify(key)).join(', ') || 'no fields'}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}
