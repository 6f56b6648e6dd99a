import type { CronSchedule } from './cron.ts';
import { formatInZone } from './describe.ts';
import { nextFireTime, type Schedule } from './schedule.ts';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** How far ahead the next change of offset is looked for: a zone with DST changes at least once a year. */
const HORIZON_MS = 400 * DAY_MS;

/** A change of a zone's UTC offset, such as a DST transition. */
export interface OffsetChange {
  /** The instant of the change. */
  readonly at: number;
  /** The UTC offset before and after, in minutes (Berlin in spring: 60 then 120). */
  readonly beforeMinutes: number;
  readonly afterMinutes: number;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** The UTC offset of `zone` at `ms`, in minutes. */
function offsetMinutes(ms: number, zone: string): number {
  let format = offsetFormats.get(zone);
  if (!format) offsetFormats.set(zone, (format = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })));
  const name = format.formatToParts(new Date(ms)).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT';
  const match = /GMT([+\u2212-])(\d{2}):(\d{2})/.exec(name);
  if (!match) return 0;
  const sign = match[1] === '+' ? 1 : -1;
  return sign * (Number(match[2]) * 60 + Number(match[3]));
}

/** The first change of `zone`'s UTC offset after `fromMs`, within about a year; `undefined` for a zone without one. */
export function nextOffsetChange(zone: string, fromMs: number): OffsetChange | undefined {
  const start = offsetMinutes(fromMs, zone);
  // Offsets change weeks apart at the least: a day's step cannot miss one.
  for (let day = fromMs; day < fromMs + HORIZON_MS; day += DAY_MS) {
    if (offsetMinutes(day + DAY_MS, zone) === start) continue;
    let low = day;
    let high = day + DAY_MS;
    while (high - low > 1) {
      const middle = Math.floor((low + high) / 2);
      if (offsetMinutes(middle, zone) === start) low = middle;
      else high = middle;
    }
    return { at: high, beforeMinutes: start, afterMinutes: offsetMinutes(high, zone) };
  }
  return undefined;
}

/**
 * What the next DST change of `zone` after `fromMs` does to a cron entry, in words, by DESIGN.md's rules:
 * `on 2027-03-28, 02:30 does not exist in Europe/Berlin: runs at 03:00`. `undefined` for an interval
 * (intervals ignore the zone) or a zone without DST.
 */
export function describeNextDstChange(schedule: Schedule, zone: string, fromMs: number): string | undefined {
  if (schedule.type === 'interval') return undefined;
  const change = nextOffsetChange(zone, fromMs);
  if (!change) return undefined;
  const gap = change.afterMinutes > change.beforeMinutes;
  // The wall times skipped (gap) or repeated (overlap), as minutes of one local day.
  const rangeStartWall = change.at + Math.min(change.beforeMinutes, change.afterMinutes) * MINUTE_MS;
  const lengthMinutes = Math.abs(change.afterMinutes - change.beforeMinutes);
  const date = new Date(rangeStartWall).toISOString().slice(0, 10);
  const from = minuteOfDay(rangeStartWall);
  const range = `${clock(from)}–${clock(from + lengthMinutes)}`;
  const clocks = gap ? `clocks go forward from ${clock(from)} to ${clock(from + lengthMinutes)}` : `clocks go back from ${clock(from + lengthMinutes)} to ${clock(from)}`;
  const { minute, hour } = schedule.fields;
  const inRange = hour.values.flatMap((h) => minute.values.map((m) => h * 60 + m)).filter((t) => t >= from && t < from + lengthMinutes);
  if (!runsOn(schedule, date) || inRange.length === 0) return `on ${date}, ${clocks} in ${zone}; this entry has no run then, so it is not affected`;
  const times = inRange.map(clock);
  const listed = times.length === 1 ? times[0] : `${times.slice(0, -1).join(', ')} and ${times.at(-1)}`;
  if (!schedule.fixedTime) {
    return gap
      ? `on ${date}, ${clocks} in ${zone}: no runs between them (this entry follows real time)`
      : `on ${date}, ${clocks} in ${zone}: ${range} happens twice and this entry runs in both (it follows real time)`;
  }
  if (gap) {
    const runs = nextFireTime(schedule, change.at - 1, zone);
    return `on ${date}, ${listed} ${times.length === 1 ? 'does' : 'do'} not exist in ${zone} (${clocks}): runs once at ${formatInZone(runs, zone).slice(11, 16)}`;
  }
  const first = nextFireTime(schedule, change.at - lengthMinutes * MINUTE_MS - 1, zone);
  return `on ${date}, ${listed} ${times.length === 1 ? 'happens' : 'happen'} twice in ${zone} (${clocks}): runs once, at the first (${formatInZone(first, zone).slice(11)})`;
}

/** Whether a cron runs on a local date at all, by Vixie's rule for day of month and day of week. */
function runsOn(schedule: CronSchedule, isoDate: string): boolean {
  const day = new Date(`${isoDate}T00:00:00Z`);
  const { dayOfMonth, month, dayOfWeek } = schedule.fields;
  if (!month.values.includes(day.getUTCMonth() + 1)) return false;
  const dom = dayOfMonth.values.includes(day.getUTCDate());
  const dow = dayOfWeek.values.includes(day.getUTCDay());
  return dayOfMonth.star || dayOfWeek.star ? dom && dow : dom || dow;
}

function minuteOfDay(wallMs: number): number {
  return Math.floor((wallMs % DAY_MS) / MINUTE_MS);
}

function clock(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}
