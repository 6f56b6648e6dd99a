import { createHash } from 'node:crypto';
import { ConfigError, formatDuration, parseDuration, validateQueueName, validateTimezone, type Duration } from '@nightshift/core';
import { compileMisfire, DEFAULT_ALL_CAP as DEFAULT_CAP, DEFAULT_SKIP_GRACE_MS as DEFAULT_SKIP_GRACE, type MisfirePolicy } from './misfire.ts';
import { CRON_FIELD_NAMES } from './cron-fields.ts';
import { compileEntryAlert, entryAlertInput, type EntryAlert, type EntryAlertInput } from './entry-alert.ts';
import { toSchedule, type Schedule } from './schedule.ts';

/**
 * What beat does when a run falls due while the entry's last run has not finished: `'allow'` sends it,
 * `'skip'` sends nothing (counted missed, reason `overlap`), `'buffer-one'` holds it until the running one
 * finishes (at most one waits; a further one is skipped).
 */
export type OverlapPolicy = 'allow' | 'skip' | 'buffer-one';
export const OVERLAP_POLICIES: readonly OverlapPolicy[] = ['allow', 'skip', 'buffer-one'];

/** Where an entry comes from: the app's code (changed only there) or the schedules table (changed at runtime). */
export type EntryKind = 'code' | 'runtime';

/** The longest jitter: a run is never sent more than a day after its fire time. */
export const MAX_JITTER_MS = 86_400_000;

/** A schedule entry, validated and defaulted: what beat dispatches from. */
export interface ScheduleEntry {
  /** Unique in the app; names the entry in logs, metrics, Redis keys and message ids. */
  readonly name: string;
  readonly task: string;
  readonly schedule: Schedule;
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
  /** `options.queue`; `undefined` sends to the task's own queue. */
  readonly queue: string | undefined;
  /** `options.expires`: a run not started this long after it was sent is dead-lettered as expired. */
  readonly expires: Duration | undefined;
  readonly misfire: MisfirePolicy;
  /** IANA zone the entry's cron is read in; `undefined`: the app's (see `entryZone`). */
  readonly timezone: string | undefined;
  readonly overlap: OverlapPolicy;
  /** Each run is sent `jitterOffsetMs(name, fire time, jitterMs)` after its fire time; 0 for none. */
  readonly jitterMs: number;
  /** Milliseconds: no fire time before it. */
  readonly startAt: number | undefined;
  /** Milliseconds: no fire time after it. */
  readonly endAt: number | undefined;
  /** When its silence (the dead man's switch) or its failures page someone. */
  readonly alert: EntryAlert;
  readonly source: EntryKind;
}

/**
 * A runtime entry as the client, the CLI and the REST API write it: JSON, with the schedule a cron string or
 * `{ every }` and times as ISO 8601 strings.
 */
export interface RuntimeEntryInput {
  readonly name: string;
  readonly task: string;
  readonly schedule: string | { readonly every: Duration; readonly anchor?: string };
  readonly args?: readonly unknown[];
  readonly kwargs?: Readonly<Record<string, unknown>>;
  readonly queue?: string;
  readonly expires?: Duration;
  readonly misfire?: 'skip' | 'once' | 'all' | { readonly policy: 'skip' | 'once' | 'all'; readonly grace?: Duration; readonly cap?: number };
  readonly timezone?: string;
  readonly overlap?: OverlapPolicy;
  readonly jitter?: Duration;
  readonly startAt?: string;
  readonly endAt?: string;
  readonly alert?: EntryAlertInput;
}

/** What is wrong with one entry. */
export interface EntryProblem {
  readonly index: number;
  /** The entry's name (or task), when it has a readable one. */
  readonly name: string | undefined;
  /** Starts with the entry's label, e.g. `schedule[1] "nightly": …`. */
  readonly message: string;
}

/** The result of checking an app's schedule. */
export interface CheckedEntries {
  /** The valid entries, in the app's order. */
  readonly entries: readonly ScheduleEntry[];
  readonly problems: readonly EntryProblem[];
  /** Every entry in the app's order: valid, or what is wrong with it. */
  readonly outcomes: readonly ({ readonly index: number; readonly entry: ScheduleEntry } | { readonly index: number; readonly problem: EntryProblem })[];
}

const ENTRY_NAME = /^[A-Za-z0-9_][\w.:@-]{0,99}$/;
const ENTRY_FIELDS = ['name', 'task', 'schedule', 'args', 'kwargs', 'options', 'misfire', 'timezone', 'overlap', 'jitter', 'startAt', 'endAt', 'alert'];
const OPTION_FIELDS = ['queue', 'expires'];
const RUNTIME_FIELDS = ['name', 'task', 'schedule', 'args', 'kwargs', 'queue', 'expires', 'misfire', 'timezone', 'overlap', 'jitter', 'startAt', 'endAt', 'alert'];
/** An instant as written in an entry: a date and time with `Z` or an offset (never the machine's zone). */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})$/i;

/**
 * Validates every entry and returns the good ones and one problem per bad one, so that all can be
 * reported at once (`nightshift schedule explain` prints each).
 * @param taskNames when given, an entry's task must be one of them.
 */
export function checkScheduleEntries(inputs: readonly unknown[], taskNames?: readonly string[]): CheckedEntries {
  const entries: ScheduleEntry[] = [];
  const problems: EntryProblem[] = [];
  const outcomes: CheckedEntries['outcomes'][number][] = [];
  const seen = new Map<string, number>();
  inputs.forEach((input, index) => {
    const raw = typeof input === 'object' && input !== null ? input as Record<string, unknown> : {};
    const readable = typeof raw.name === 'string' ? raw.name : typeof raw.task === 'string' ? raw.task : undefined;
    const label = `schedule[${index}]${readable === undefined ? '' : ` ${JSON.stringify(readable)}`}`;
    try {
      const entry = compileEntry(input, label, taskNames, 'code');
      const earlier = seen.get(entry.name);
      if (earlier !== undefined) {
        throw new ConfigError(`${label}: schedule[${earlier}] has the same name; give each entry its own name (the name keys its runs in Redis)`, { field: `schedule[${index}].name` });
      }
      seen.set(entry.name, index);
      entries.push(entry);
      outcomes.push({ index, entry });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      const problem = { index, name: readable, message: error.message };
      problems.push(problem);
      outcomes.push({ index, problem });
    }
  });
  return { entries, problems, outcomes };
}

/**
 * Validates an app's schedule.
 * @throws ConfigError listing every bad entry, each named.
 */
export function compileScheduleEntries(inputs: readonly unknown[], taskNames?: readonly string[]): readonly ScheduleEntry[] {
  const { entries, problems } = checkScheduleEntries(inputs, taskNames);
  if (problems.length === 1) throw new ConfigError((problems[0] as EntryProblem).message, { field: `schedule[${(problems[0] as EntryProblem).index}]` });
  if (problems.length > 1) throw new ConfigError(`${problems.length} schedule entries are invalid:\n  ${problems.map((p) => p.message).join('\n  ')}`, { field: 'schedule' });
  return Object.freeze(entries);
}

/**
 * Validates one runtime entry (`RuntimeEntryInput`), as every way of creating or changing one does.
 * @param taskNames when given, the entry's task must be one of them.
 * @throws ConfigError whose `field` names the field at fault (`schedule`, `timezone`, `task`, …).
 */
export function compileRuntimeEntry(input: unknown, taskNames?: readonly string[]): ScheduleEntry {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new ConfigError('a schedule entry must be an object { name, task, schedule, … }', { field: 'entry' });
  }
  const raw = input as Record<string, unknown>;
  const label = `schedule ${typeof raw.name === 'string' ? JSON.stringify(raw.name) : 'entry'}`;
  const unknown = Object.keys(raw).find((key) => !RUNTIME_FIELDS.includes(key));
  if (unknown !== undefined) throw new ConfigError(`${label}: unknown field ${JSON.stringify(unknown)} (fields: ${RUNTIME_FIELDS.join(', ')})`, { field: unknown });
  if (raw.name === undefined) throw new ConfigError(`${label}: name is missing (a runtime entry is changed and removed by its name)`, { field: 'name' });
  if (typeof raw.schedule === 'object' && raw.schedule !== null && !('every' in raw.schedule)) {
    throw new ConfigError(`${label}: schedule must be a cron string such as '0 */3 * * *' or { "every": "5m" }`, { field: 'schedule' });
  }
  const { queue, expires, ...rest } = raw;
  const options = { ...(queue !== undefined ? { queue } : {}), ...(expires !== undefined ? { expires } : {}) };
  try {
    return compileEntry({ ...rest, ...(Object.keys(options).length > 0 ? { options } : {}) }, label, taskNames, 'runtime');
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // Name the field as this JSON form writes it: a bad cron field (`hour`) is `schedule`; `schedule "r"
    // options.queue` (a label, from a parser that names its input) is `queue`; `misfire.grace` is `misfire`.
    const field = (error.field ?? '').replace(`${label} `, '').replace(/^options\./, '').replace(/\..*$/, '');
    const named = (CRON_FIELD_NAMES as readonly string[]).includes(field) ? 'schedule' : field;
    if (named === error.field) throw error;
    throw new ConfigError(error.message.replace(' options.', ' '), { field: named });
  }
}

/** The JSON form of an entry (`RuntimeEntryInput`): what is stored for a runtime entry and shown for any. */
export function runtimeEntryInput(entry: ScheduleEntry): RuntimeEntryInput {
  const { schedule, misfire } = entry;
  const alert = entryAlertInput(entry.alert);
  const defaultGrace = misfire.policy === 'skip' ? DEFAULT_SKIP_GRACE : undefined;
  const misfireInput = misfire.graceMs === defaultGrace && (misfire.policy !== 'all' || misfire.cap === DEFAULT_CAP)
    ? misfire.policy
    : { policy: misfire.policy, ...(misfire.graceMs !== undefined && misfire.graceMs !== defaultGrace ? { grace: formatDuration(misfire.graceMs) } : {}), ...(misfire.policy === 'all' && misfire.cap !== DEFAULT_CAP ? { cap: misfire.cap } : {}) };
  return {
    name: entry.name,
    task: entry.task,
    schedule: schedule.type === 'cron'
      ? schedule.expression
      : { every: formatDuration(schedule.everyMs), ...(schedule.anchorMs !== 0 ? { anchor: new Date(schedule.anchorMs).toISOString() } : {}) },
    args: [...entry.args],
    kwargs: { ...entry.kwargs },
    ...(entry.queue !== undefined ? { queue: entry.queue } : {}),
    ...(entry.expires !== undefined ? { expires: entry.expires } : {}),
    misfire: misfireInput,
    ...(entry.timezone !== undefined ? { timezone: entry.timezone } : {}),
    overlap: entry.overlap,
    ...(entry.jitterMs > 0 ? { jitter: formatDuration(entry.jitterMs) } : {}),
    ...(entry.startAt !== undefined ? { startAt: new Date(entry.startAt).toISOString() } : {}),
    ...(entry.endAt !== undefined ? { endAt: new Date(entry.endAt).toISOString() } : {}),
    ...(alert !== undefined ? { alert } : {}),
  };
}

/** The zone an entry's cron is read in: its own, else the app's. */
export function entryZone(entry: ScheduleEntry, appZone: string): string {
  return entry.timezone ?? appZone;
}

/**
 * The fixed offset in `[0, jitterMs)` after its fire time at which a run is sent: derived from the entry's name
 * and the fire time alone, so every replica (and `schedule explain`) computes the same one, and ten thousand
 * entries firing at 09:00 spread over the jitter window.
 */
export function jitterOffsetMs(entryName: string, fireMs: number, jitterMs: number): number {
  if (jitterMs <= 0) return 0;
  const digest = createHash('sha256').update(`${entryName}\u0000${fireMs}`).digest();
  return Math.floor((digest.readUIntBE(0, 6) / 2 ** 48) * jitterMs);
}

// Tasks, queues and zones repeat across entries; each runtime entry read from JSON brings its own copy of the
// string (100,000 entries of one task: 100,000 copies). The first copy of each is kept, up to a bound.
const INTERNED_KEPT = 10_000;
const internedStrings = new Map<string, string>();
function interned(value: string): string {
  const known = internedStrings.get(value);
  if (known !== undefined) return known;
  if (internedStrings.size < INTERNED_KEPT) internedStrings.set(value, value);
  return value;
}

const NO_ARGS: readonly unknown[] = Object.freeze([]);
const NO_KWARGS: Readonly<Record<string, unknown>> = Object.freeze({});

function compileEntry(input: unknown, label: string, taskNames: readonly string[] | undefined, source: EntryKind): ScheduleEntry {
  const fail = (message: string, field: string) => new ConfigError(`${label}: ${message}`, { field });
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw fail('an entry must be an object { task, schedule, … }', 'schedule');
  const raw = input as Record<string, unknown>;
  const unknown = Object.keys(raw).find((key) => !ENTRY_FIELDS.includes(key));
  if (unknown !== undefined) throw fail(`unknown field ${JSON.stringify(unknown)} (fields: ${ENTRY_FIELDS.join(', ')})`, unknown);
  if (typeof raw.task !== 'string' || raw.task === '') throw fail('task must be a task name', 'task');
  if (taskNames !== undefined && !taskNames.includes(raw.task)) throw fail(`task ${JSON.stringify(raw.task)} is not one of the app's tasks`, 'task');
  const name = raw.name ?? raw.task;
  if (typeof name !== 'string' || !ENTRY_NAME.test(name)) throw fail(`name ${JSON.stringify(name)} must be letters, digits and . _ : @ - (at most 100, no spaces)`, 'name');
  if (raw.schedule === undefined) throw fail('schedule is missing (a cron string such as \'0 */3 * * *\', or { every: \'5m\' })', 'schedule');
  const schedule = toSchedule(raw.schedule, label);
  const args = raw.args ?? [];
  if (!Array.isArray(args)) throw fail('args must be an array', 'args');
  const kwargs = raw.kwargs ?? {};
  if (typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs)) throw fail('kwargs must be an object', 'kwargs');
  const options = raw.options ?? {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw fail('options must be an object { queue?, expires? }', 'options');
  const { queue, expires } = options as { queue?: unknown; expires?: unknown };
  const unknownOption = Object.keys(options).find((key) => !OPTION_FIELDS.includes(key));
  if (unknownOption !== undefined) throw fail(`unknown option ${JSON.stringify(unknownOption)} (options: ${OPTION_FIELDS.join(', ')})`, 'options');
  if (queue !== undefined) validateQueueName(queue, `${label} options.queue`);
  if (expires !== undefined) parseDuration(expires as Duration, `${label} options.expires`);
  const timezone = raw.timezone === undefined ? undefined : entryTimezone(raw.timezone, label);
  const overlap = raw.overlap ?? 'allow';
  if (!(OVERLAP_POLICIES as readonly unknown[]).includes(overlap)) throw fail(`overlap ${JSON.stringify(overlap)} must be ${OVERLAP_POLICIES.map((p) => `'${p}'`).join(', ')}`, 'overlap');
  const jitterMs = raw.jitter === undefined ? 0 : compileJitter(raw.jitter, schedule, label);
  const startAt = raw.startAt === undefined ? undefined : instant(raw.startAt, label, 'startAt');
  const endAt = raw.endAt === undefined ? undefined : instant(raw.endAt, label, 'endAt');
  if (startAt !== undefined && endAt !== undefined && endAt <= startAt) throw fail('endAt must be after startAt', 'endAt');
  return Object.freeze({
    name,
    task: interned(raw.task),
    schedule,
    // Most entries have neither: 100,000 runtime entries share one empty list and one empty object.
    args: args.length === 0 ? NO_ARGS : Object.freeze([...args]),
    kwargs: Object.keys(kwargs).length === 0 ? NO_KWARGS : Object.freeze({ ...(kwargs as Record<string, unknown>) }),
    queue: queue === undefined ? undefined : interned(queue as string),
    expires: expires as Duration | undefined,
    misfire: compileMisfire(raw.misfire, label),
    timezone: timezone === undefined ? undefined : interned(timezone),
    overlap: overlap as OverlapPolicy,
    jitterMs,
    startAt,
    endAt,
    alert: compileEntryAlert(raw.alert, label),
    source,
  });
}

function entryTimezone(zone: unknown, label: string): string {
  try {
    return validateTimezone(zone, `${label} timezone`);
  } catch (error) {
    throw new ConfigError((error as Error).message, { field: 'timezone' });
  }
}

function compileJitter(input: unknown, schedule: Schedule, label: string): number {
  const jitterMs = parseDuration(input as Duration, `${label} jitter`);
  if (jitterMs > MAX_JITTER_MS) throw new ConfigError(`${label}: jitter ${JSON.stringify(input)} is longer than a day`, { field: 'jitter' });
  if (schedule.type === 'interval' && jitterMs >= schedule.everyMs) {
    throw new ConfigError(`${label}: jitter ${JSON.stringify(input)} must be shorter than the interval (${formatDuration(schedule.everyMs)}), or runs would overtake each other`, { field: 'jitter' });
  }
  return jitterMs;
}

function instant(value: unknown, label: string, field: 'startAt' | 'endAt'): number {
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value.getTime();
  const ms = typeof value === 'string' && INSTANT.test(value) ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new ConfigError(`${label}: ${field} ${JSON.stringify(value)} must be a date and time with Z or an offset, e.g. 2027-01-31T09:00:00Z`, { field });
  return ms;
}
