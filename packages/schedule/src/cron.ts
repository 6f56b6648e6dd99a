import { Cron, CronPattern, type CronOptions } from 'croner';
import { ConfigError, validateTimezone } from '@nightshift/core';
import { checkDatesOccur } from './cron-dates.ts';
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
  // share a few thousand expressions), and entries sharing it share croner's job too.
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
  checkCronerAgrees(schedule);
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

/**
 * The pattern croner is given. croner's `fixedTimeRule: 'no-wildcard'` counts a step such as `0-23/2` as
 * wild, where Vixie cron (and DESIGN.md) count it as fixed-time; so a minute or hour field that does not
 * start with `*` is handed over as its explicit list of values, which croner then counts as fixed-time too.
 * Days, months and weekdays are lists unless exactly `*`, which keeps Vixie's OR of day of month and week.
 */
export function cronerPattern(schedule: CronSchedule): string {
  const { minute, hour, dayOfMonth, month, dayOfWeek } = schedule.fields;
  const wildOrList = (field: typeof minute): string => (field.wild ? field.text : field.values.join(','));
  const starOrList = (field: typeof minute): string => (field.star ? '*' : field.values.join(','));
  return [wildOrList(minute), wildOrList(hour), starOrList(dayOfMonth), starOrList(month), starOrList(dayOfWeek)].join(' ');
}

/** croner 11.0.1's options for Vixie semantics: OR of day of month and week, and its DST rules. */
export function cronerOptions(zone: string): CronOptions {
  return { timezone: zone, mode: '5-part', domAndDow: false, fixedTimeRule: 'no-wildcard', paused: true };
}

const jobs = new WeakMap<CronSchedule, Map<string, Cron>>();
// croner's jobs by pattern and zone, shared by every schedule that reads the same (a beat with 100,000 runtime
// entries has far fewer distinct ones). Weakly held: a job nobody's schedule uses any more can go.
const shared = new Map<string, WeakRef<Cron>>();
const sweep = new FinalizationRegistry<string>((key) => {
  if (shared.get(key)?.deref() === undefined) shared.delete(key);
});
// croner 11 gives every pattern a 10,000-entry array of the years it fires in (80 KB of memory, and as much
// garbage at each construction); five fields fire in every year, so every job reads this one.
const EVERY_YEAR: readonly number[] = Object.freeze(Array<number>(10_000).fill(1));

function job(schedule: CronSchedule, zone: string): Cron {
  let byZone = jobs.get(schedule);
  if (!byZone) jobs.set(schedule, (byZone = new Map()));
  let found = byZone.get(zone);
  if (!found) {
    const pattern = cronerPattern(schedule);
    const key = `${zone}|${pattern}`;
    found = shared.get(key)?.deref();
    if (!found) {
      // croner reads an empty zone as the machine's own and throws a bare TypeError for an unknown one.
      validateTimezone(zone, `cron ${JSON.stringify(schedule.expression)} zone`);
      found = slim(new Cron(pattern, cronerOptions(zone)));
      shared.set(key, new WeakRef(found));
      sweep.register(found, key);
    }
    byZone.set(zone, found);
  }
  return found;
}

function slim(made: Cron): Cron {
  const pattern = (made as unknown as { _states?: { pattern?: { year?: readonly number[] } } })._states?.pattern;
  const years = pattern?.year;
  // A five-part pattern has no year field: croner marks every year (checked at a few places, not all 10,000).
  if (pattern !== undefined && years?.length === EVERY_YEAR.length && years[0] === 1 && years[4_999] === 1 && years[9_999] === 1) pattern.year = EVERY_YEAR;
  return made;
}

/**
 * The first fire time strictly after `afterMs`, in `zone`; `undefined` if there is none (never, for valid fields).
 * @throws ConfigError when `zone` is not an IANA zone name.
 */
export function cronNext(schedule: CronSchedule, afterMs: number, zone: string): number | undefined {
  const made = job(schedule, zone);
  const memo = memoOf(made);
  // The same answer holds for any moment from the one it was worked out for until it: every entry sharing the job
  // asks for a different moment (its own watermark, its own start-up's now) and most fall in the last span.
  const span = memo.nextSpan;
  if (span !== undefined && afterMs >= span.from && afterMs < span.until) return span.until;
  if (memo.next.has(afterMs)) return memo.next.get(afterMs);
  const next = made.nextRun(new Date(afterMs))?.getTime();
  if (memo.next.size >= MEMO_SIZE) memo.next.clear();
  memo.next.set(afterMs, next);
  if (next !== undefined && next > afterMs) memo.nextSpan = { from: afterMs, until: next };
  return next;
}

/** Up to `count` fire times at or before `untilMs`, newest first. */
export function cronLatest(schedule: CronSchedule, untilMs: number, zone: string, count: number): number[] {
  const made = job(schedule, zone);
  const memo = memoOf(made);
  // The same answer holds from its newest fire time until the next one: every entry of one boundary asks it.
  const known = memo.latest.get(count);
  if (known !== undefined && untilMs >= known.from && untilMs < known.until) return [...known.runs];
  const runs = made.previousRuns(count, new Date(untilMs + 1)).map((date) => date.getTime());
  const newest = runs[0];
  if (newest !== undefined) {
    const next = cronNext(schedule, newest, zone);
    // Only when `untilMs` lies in that span (a clock far off, or no next fire, is not kept).
    if (next !== undefined && untilMs >= newest && untilMs < next) memo.latest.set(count, { from: newest, until: next, runs });
  }
  return runs;
}

/**
 * Fire times already worked out, per croner job: converting times in a zone is most of what croner costs, and
 * thousands of entries sharing a job (the same cron in the same zone) ask the same at the same boundary.
 */
interface Memo {
  readonly next: Map<number, number | undefined>;
  /** The last fire time worked out (`until`) and the moment it was worked out for: the answer for all of [from, until). */
  nextSpan?: { readonly from: number; readonly until: number };
  /** By count: the newest `count` fire times, valid for any `untilMs` in [from, until). */
  readonly latest: Map<number, { readonly from: number; readonly until: number; readonly runs: readonly number[] }>;
}
const MEMO_SIZE = 64;
const memos = new WeakMap<Cron, Memo>();

function memoOf(made: Cron): Memo {
  let memo = memos.get(made);
  if (memo === undefined) memos.set(made, (memo = { next: new Map(), latest: new Map() }));
  return memo;
}

// croner reads the pattern we build; if it ever read it differently from our own parser (values, or
// fixed-time versus wild), the DST rules would silently change. Checked once per schedule.
const agreed = new Set<string>();
function checkCronerAgrees(schedule: CronSchedule): void {
  if (agreed.has(schedule.expression)) return;
  const pattern = new CronPattern(cronerPattern(schedule), undefined, { mode: '5-part', fixedTimeRule: 'no-wildcard' });
  const set = (flags: readonly number[]) => flags.flatMap((flag, value) => (flag ? [value] : []));
  const days = set(pattern.day).map((index) => index + 1);
  const months = set(pattern.month).map((index) => index + 1);
  const weekdays = set(pattern.dayOfWeek).filter((value) => value < 7);
  const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((value, index) => value === b[index]);
  const { fields } = schedule;
  if (!same(set(pattern.minute), fields.minute.values) || !same(set(pattern.hour), fields.hour.values) || !same(days, fields.dayOfMonth.values)
    || !same(months, fields.month.values) || !same(weekdays, fields.dayOfWeek.values) || pattern.isFixedTime !== schedule.fixedTime) {
    throw new Error(`croner reads ${JSON.stringify(schedule.expression)} differently from Nightshift's cron parser; this is a bug in @nightshift/schedule`);
  }
  agreed.add(schedule.expression);
}
