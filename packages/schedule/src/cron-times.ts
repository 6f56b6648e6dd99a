import type { CronFields } from './cron-fields.ts';
import { MAX_OFFSET_MS, type ZoneOffsets } from './zone-offsets.ts';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
/** A cron that fires at all fires within this many days (29 February on a given weekday aside, which Vixie's OR allows daily). */
const SEARCH_DAYS = 366 * 8 + 2;

/** A cron's fields as lookup tables: one per distinct expression, shared by every zone it is read in. */
export interface CronTable {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly day: Uint8Array;
  readonly month: Uint8Array;
  readonly weekday: Uint8Array;
  /** Day of month and day of week both restricted: a day matches if either does (Vixie's OR). */
  readonly either: boolean;
  readonly fixedTime: boolean;
}

export function cronTable(fields: CronFields, fixedTime: boolean): CronTable {
  const flags = (values: readonly number[], size: number) => {
    const table = new Uint8Array(size);
    for (const value of values) table[value] = 1;
    return table;
  };
  return {
    minutes: fields.minute.values,
    hours: fields.hour.values,
    day: flags(fields.dayOfMonth.values, 32),
    month: flags(fields.month.values, 13),
    weekday: flags(fields.dayOfWeek.values, 7),
    either: !fields.dayOfMonth.star && !fields.dayOfWeek.star,
    fixedTime,
  };
}

// Whether a day (days since 1970-01-01) matches the day fields. The calendar date is worked out with integers
// (Howard Hinnant's days-to-civil), not a `Date` per day asked: a leader starting 100,000 entries asks millions.
function dayMatches(table: CronTable, day: number): boolean {
  const shifted = day + 719_468;
  const era = Math.floor(shifted / 146_097);
  const dayOfEra = shifted - era * 146_097;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1_460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthFromMarch = Math.floor((5 * dayOfYear + 2) / 153);
  const month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9;
  if (table.month[month] !== 1) return false;
  const dom = table.day[dayOfYear - Math.floor((153 * monthFromMarch + 2) / 5) + 1] === 1;
  // 1970-01-01 was a Thursday (4).
  const dow = table.weekday[(((day + 4) % 7) + 7) % 7] === 1;
  return table.either ? dom || dow : dom && dow;
}

/**
 * The instants a wall time (local time written as if UTC) happens at, by DESIGN.md's rules. A wall time that happens
 * once is that instant. Repeated by a fall-back: a fixed-time entry fires at the first occurrence, a wild one at
 * both. Skipped by a spring-forward: a fixed-time entry fires at the first instant after the gap, a wild one not.
 */
function instantsOf(wall: number, zone: ZoneOffsets, fixedTime: boolean): number[] {
  const changes = zone.changes(wall - MAX_OFFSET_MS, wall + MAX_OFFSET_MS);
  const offsets = new Set([zone.at(wall - MAX_OFFSET_MS), ...changes.map((change) => change.after)]);
  const found: number[] = [];
  for (const offset of offsets) if (zone.at(wall - offset) === offset) found.push(wall - offset);
  found.sort((a, b) => a - b);
  if (found.length > 0) return fixedTime ? found.slice(0, 1) : found;
  if (!fixedTime) return [];
  const gap = changes.find((change) => change.at + change.before <= wall && wall < change.at + change.after);
  return gap === undefined ? [] : [gap.at];
}

/** The fire instants of one local day (days since 1970-01-01, in wall time), in order. */
function dayInstants(table: CronTable, zone: ZoneOffsets, day: number): number[] {
  const start = day * DAY_MS;
  const out: number[] = [];
  if (!zone.changesWithin(start - MAX_OFFSET_MS, start + DAY_MS + MAX_OFFSET_MS)) {
    const offset = zone.at(start);
    for (const hour of table.hours) for (const minute of table.minutes) out.push(start + hour * HOUR_MS + minute * MINUTE_MS - offset);
    return out;
  }
  for (const hour of table.hours) for (const minute of table.minutes) out.push(...instantsOf(start + hour * HOUR_MS + minute * MINUTE_MS, zone, table.fixedTime));
  // Several wall times in one gap meet at its end: no instant fires twice.
  return [...new Set(out)].sort((a, b) => a - b);
}

/**
 * The first fire time strictly after `afterMs` of a cron read in a zone; `undefined` if none within eight years.
 */
export function cronTimeAfter(table: CronTable, afterMs: number, offsets: ZoneOffsets): number | undefined {
  // The day before the local day of `afterMs` too: a wall time of it can fall after `afterMs` across a fall-back.
  const first = Math.floor((afterMs + offsets.at(afterMs)) / DAY_MS) - 1;
  for (let day = first; day <= first + SEARCH_DAYS; day++) {
    if (!dayMatches(table, day)) continue;
    const start = day * DAY_MS;
    if (offsets.changesWithin(start - MAX_OFFSET_MS, start + DAY_MS + MAX_OFFSET_MS)) {
      for (const at of dayInstants(table, offsets, day)) if (at > afterMs) return at;
      continue;
    }
    // One offset all day (nearly every day): wall times and instants run in the same order. Indexed loops: this runs
    // for every entry a leader starts, and iterators cost an object per step until the function is optimised.
    const base = start - offsets.at(start);
    if (base + DAY_MS <= afterMs) continue;
    const { hours, minutes } = table;
    for (let h = 0; h < hours.length; h++) {
      const hour = hours[h] as number;
      if (base + (hour + 1) * HOUR_MS <= afterMs) continue;
      for (let m = 0; m < minutes.length; m++) {
        const at = base + hour * HOUR_MS + (minutes[m] as number) * MINUTE_MS;
        if (at > afterMs) return at;
      }
    }
  }
  return undefined;
}

/**
 * Up to `count` fire times at or before `untilMs` of a cron read in a zone, newest first.
 */
export function cronTimesUntil(table: CronTable, untilMs: number, offsets: ZoneOffsets, count: number): number[] {
  const out: number[] = [];
  const last = Math.floor((untilMs + offsets.at(untilMs)) / DAY_MS) + 1;
  for (let day = last; day >= last - SEARCH_DAYS && out.length < count; day--) {
    if (!dayMatches(table, day)) continue;
    const instants = dayInstants(table, offsets, day);
    for (let i = instants.length - 1; i >= 0 && out.length < count; i--) if ((instants[i] as number) <= untilMs) out.push(instants[i] as number);
  }
  return out;
}
