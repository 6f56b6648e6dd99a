import { ConfigError } from '@nightshift/core';
import { checkDatesOccur } from './cron-dates.ts';
import { cronTable, cronTimeAfter, cronTimesUntil, type CronTable } from './cron-times.ts';
import { knownZoneOffsets, zoneOffsets, type ZoneOffsets } from './zone-offsets.ts';
import { CRON_FIELD_NAMES, crontabFieldText, parseCronField, type CronFieldName, type CronFields, type CrontabValue } from './cron-fields.ts';

/** A Vixie cron schedule, read in the app's time zone. Made by `cron('0 9 * * mon-fri')` or `crontab({ … })`. */
export interface CronSchedule {
  readonly kind: 'nightshift.schedule';
  readonly type: 'cron';
  /** The five fields, as written (nicknames such as `@daily` expanded, names lower-cased). */
  readonly expression: string;
  readonly fields: CronFields;
  /**
   * Fixed-time unless the minute or hour field starts with `*` (then *wild*). A fixed-time entry whose wall
   * time falls in a spring-forward gap fires once at the first instant after it, and fires once (at the
   * first occurrence) on a time repeated by fall-back; a wild entry follows real time.
   */
  readonly fixedTime: boolean;
}

/** Named fields for `crontab()`; a field left out means every value. */
export interface CrontabFields {
  /** 0-59. Default: every minute (`*`). */
  readonly minute?: CrontabValue;
  /** 0-23. Default: every hour (`*`). */
  readonly hour?: CrontabValue;
  /** 1-31. Default: every day (`*`). */
  readonly dayOfMonth?: CrontabValue;
  /** 1-12 or `jan`-`dec`. Default: every month (`*`). */
  readonly month?: CrontabValue;
  /** 0-7 (0 and 7 are Sunday) or `sun`-`sat`. Default: every day (`*`). */
  readonly dayOfWeek?: CrontabValue;
}

const NICKNAMES: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/**
 * A cron schedule from a five-field Vixie cron expression: minute, hour, day of month, month, day of week.
 * @param where names the entry in errors. Default: `'cron'`.
 * @throws ConfigError naming the field at fault and why.
 */
export function cron(expression: string, where = 'cron'): CronSchedule {
  // Schedules are frozen: one expression read once serves every entry that uses it (100,000 runtime entries
  // share a few thousand expressions), and entries sharing it share its lookup tables too.
  const known = typeof expression === 'string' ? parsed.get(expression) : undefined;
  if (known !== undefined) return known;
  const schedule = parseCron(expression, where);
  if (parsed.size >= PARSED_KEPT) parsed.clear();
  parsed.set(expression, schedule);
  return schedule;
}

const parsed = new Map<string, CronSchedule>();
const PARSED_KEPT = 50_000;

function parseCron(expression: string, where: string): CronSchedule {
  if (typeof expression !== 'string') throw new ConfigError(`${where}: a cron schedule must be a string such as '0 */3 * * *', got ${typeof expression}`, { field: 'schedule' });
  const trimmed = expression.trim();
  const text = NICKNAMES[trimmed.toLowerCase()] ?? trimmed;
  const parts = text.split(/\s+/);
  if (parts.length !== 5) {
    const hint = parts.length === 6 ? '; seconds are not part of cron here: use every({ seconds: n })' : '';
    throw new ConfigError(`${where}: ${JSON.stringify(expression)} has ${parts.length} ${parts.length === 1 ? 'field' : 'fields'}; cron takes five (minute hour day-of-month month day-of-week)${hint}`, { field: 'schedule' });
  }
  const entries = CRON_FIELD_NAMES.map((name, index) => [name, parseCronField(name, parts[index] as string, `${where} ${JSON.stringify(expression)}`)] as const);
  const fields = Object.freeze(Object.fromEntries(entries)) as CronFields;
  checkDatesOccur(fields, `${where} ${JSON.stringify(expression)}`);
  const schedule: CronSchedule = Object.freeze({
    kind: 'nightshift.schedule',
    type: 'cron',
    expression: CRON_FIELD_NAMES.map((name) => fields[name].text).join(' '),
    fields,
    fixedTime: !fields.minute.wild && !fields.hour.wild,
  });
  return schedule;
}

/**
 * A cron schedule from named fields: `crontab({ minute: 0, hour: 9, dayOfWeek: 'mon-fri' })` is `0 9 * * mon-fri`.
 * @throws ConfigError naming the field at fault.
 */
export function crontab(fields: CrontabFields, where = 'crontab'): CronSchedule {
  if (typeof fields !== 'object' || fields === null) throw new ConfigError(`${where}: crontab() takes an object such as { minute: 0, hour: 9 }`, { field: 'schedule' });
  const unknown = Object.keys(fields).filter((key) => !(CRON_FIELD_NAMES as readonly string[]).includes(key));
  if (unknown.length > 0) throw new ConfigError(`${where}: unknown crontab field ${JSON.stringify(unknown[0])} (fields: ${CRON_FIELD_NAMES.join(', ')})`, { field: 'schedule' });
  const text = CRON_FIELD_NAMES.map((name: CronFieldName) => crontabFieldText(fields[name], name, where)).join(' ');
  return cron(text, where);
}

// The lookup tables of each schedule (one per expression: schedules are shared through `parsed`).
const tables = new WeakMap<CronSchedule, CronTable>();

function tableOf(schedule: CronSchedule): CronTable {
  let table = tables.get(schedule);
  if (table === undefined) tables.set(schedule, (table = cronTable(schedule.fields, schedule.fixedTime)));
  return table;
}

/**
 * The first fire time strictly after `afterMs`, in `zone`; `undefined` if there is none (never, for valid fields).
 * Worked out from the fields and the zone's table of offsets (`cron-times.ts`), not by a croner job per schedule
 * and zone: a beat with 100,000 runtime entries has tens of thousands of distinct pairs, and each job cost
 * kilobytes and its first answer a tenth of a millisecond.
 * @throws ConfigError when `zone` is not an IANA zone name.
 */
export function cronNext(schedule: CronSchedule, afterMs: number, zone: string): number | undefined {
  return cronTimeAfter(tableOf(schedule), afterMs, offsetsOf(schedule, zone));
}

/** Up to `count` fire times at or before `untilMs`, newest first. */
export function cronLatest(schedule: CronSchedule, untilMs: number, zone: string, count: number): number[] {
  return cronTimesUntil(tableOf(schedule), untilMs, offsetsOf(schedule, zone), count);
}

// An empty or unknown zone is refused, naming the cron (never read as the machine's own zone).
function offsetsOf(schedule: CronSchedule, zone: string): ZoneOffsets {
  return knownZoneOffsets(zone) ?? zoneOffsets(zone, () => `cron ${JSON.stringify(schedule.expression)} zone`);
}
