import { parseDuration, type Duration } from './duration.ts';
import { ConfigError } from './errors.ts';
import { compileRetryPolicy, type RetryOptions, type RetryPolicy } from './retry.ts';
import { isTask, validateQueueName, type AnyTask } from './task.ts';

/** Settings every task of an app inherits unless it sets its own. */
export interface AppDefaults {
  /** Default: `'default'`. */
  queue?: string;
  /** Default: `'300s'`. */
  softTimeLimit?: Duration;
  /** Default: `'330s'`. */
  timeLimit?: Duration;
  retry?: RetryOptions;
}

/**
 * A schedule entry as written in an app. Beat validates `schedule` and `misfire`
 * (see `@nightshift/schedule`); the core only checks that the task exists.
 */
export interface ScheduleEntryInput {
  /** Names the entry in logs, metrics and dedup keys. Default: the task name. */
  name?: string;
  task: string;
  schedule: unknown;
  args?: readonly unknown[];
  kwargs?: Readonly<Record<string, unknown>>;
  options?: { queue?: string; expires?: Duration };
  /**
   * What beat does with runs missed while it could not send them: `'skip'`, `'once'` or `'all'`, or the
   * policy with its `grace` (how late a run may still be sent) and, for `'all'`, its `cap` (see
   * `@nightshift/schedule`'s `MisfireInput` for the defaults). Default: `'once'`.
   */
  misfire?: 'skip' | 'once' | 'all' | { policy: 'skip' | 'once' | 'all'; grace?: Duration; cap?: number };
  /** IANA zone this entry's cron is read in. Default: the app's `timezone`. */
  timezone?: string;
  /**
   * What beat does when a run falls due while this entry's last run has not finished: `'allow'` sends it anyway,
   * `'skip'` sends nothing (counted missed, reason `overlap`), `'buffer-one'` sends it once the running one has
   * finished (one waits at most). Default: `'allow'`.
   */
  overlap?: 'allow' | 'skip' | 'buffer-one';
  /** Each run is sent after a fixed offset in `[0, jitter)` derived from the entry and the fire time. Default: none. */
  jitter?: Duration;
  /** No run before this time (a Date, or ISO 8601 with `Z` or an offset). */
  startAt?: Date | string;
  /** No run after this time. */
  endAt?: Date | string;
  /**
   * When this entry's silence or failures page someone: `overdueAfter` (the dead man's switch's tolerance past the
   * time a success was due; `false` turns it off; default `'5m'`), `afterFailures` (page after that many runs in a
   * row are dead-lettered), `pauseAfterFailures` (pause the entry after that many). See `@nightshift/schedule`.
   */
  alert?: { overdueAfter?: Duration | false; afterFailures?: number; pauseAfterFailures?: number };
}

/**
 * An app's schedule as an object keyed by entry name (the shape of Celery's `beat_schedule`):
 * `{ nightly: { task: 'reports.generate', schedule: '0 2 * * *' } }` is `[{ name: 'nightly', task: …, schedule: … }]`.
 */
export type ScheduleByName = Readonly<Record<string, Omit<ScheduleEntryInput, 'name'> & { name?: string }>>;

export interface AppOptions<Tasks extends readonly AnyTask[]> {
  name: string;
  tasks: Tasks;
  /**
   * The entries beat sends: a list, or an object keyed by entry name (each key becomes the entry's `name`;
   * the list keeps the order you wrote). Default: none.
   */
  schedule?: readonly ScheduleEntryInput[] | ScheduleByName;
  /** IANA zone for cron schedules. Default: `'UTC'`. */
  timezone?: string;
  defaults?: AppDefaults;
}

export interface App<Tasks extends readonly AnyTask[] = readonly AnyTask[]> {
  readonly kind: 'nightshift.app';
  readonly name: string;
  readonly tasks: Tasks;
  readonly schedule: readonly ScheduleEntryInput[];
  readonly timezone: string;
  readonly defaults: Readonly<AppDefaults>;
  /** The task of that name, or `undefined`. */
  task(name: string): AnyTask | undefined;
}

export type AnyApp = App<readonly AnyTask[]>;
export type TaskNames<A extends AnyApp> = A['tasks'][number]['name'];
export type TaskNamed<A extends AnyApp, N extends string> = Extract<A['tasks'][number], { name: N }>;

/** A task's settings after app and global defaults are applied. */
export interface ResolvedTaskSettings {
  readonly queue: string;
  readonly softTimeLimitMs: number;
  readonly timeLimitMs: number;
  /** Which limits came from the global default rather than the task or the app. */
  readonly limitsFromGlobalDefault: { readonly soft: boolean; readonly hard: boolean };
  readonly retry: RetryPolicy;
}

export const GLOBAL_DEFAULTS = Object.freeze({ queue: 'default', softTimeLimitMs: 300_000, timeLimitMs: 330_000 });

/** Defines an app: the default export of the module that `--app <path>` names. */
export function defineApp<const Tasks extends readonly AnyTask[]>(options: AppOptions<Tasks>): App<Tasks> {
  const name = options?.name as unknown;
  if (typeof name !== 'string' || name.trim() === '') throw new ConfigError('defineApp: name must be a non-empty string', { field: 'name' });
  const where = `app ${JSON.stringify(name)}`;
  if (!Array.isArray(options.tasks)) throw new ConfigError(`${where}: tasks must be a list of tasks made with defineTask`, { field: 'tasks' });
  const byName = new Map<string, AnyTask>();
  options.tasks.forEach((task: unknown, index: number) => {
    if (!isTask(task)) throw new ConfigError(`${where}: tasks[${index}] is not a task made with defineTask`, { field: `tasks[${index}]` });
    if (byName.has(task.name)) throw new ConfigError(`${where}: two tasks are named ${JSON.stringify(task.name)}`, { field: `tasks[${index}]` });
    byName.set(task.name, task);
  });
  const timezone = validateTimezone(options.timezone ?? 'UTC', `${where} timezone`);
  const defaults = Object.freeze({ ...(options.defaults ?? {}) });
  if (defaults.queue !== undefined) validateQueueName(defaults.queue, `${where} defaults.queue`);
  if (defaults.softTimeLimit !== undefined) parseDuration(defaults.softTimeLimit, `${where} defaults.softTimeLimit`);
  if (defaults.timeLimit !== undefined) parseDuration(defaults.timeLimit, `${where} defaults.timeLimit`);
  compileRetryPolicy(defaults.retry, `${where} defaults.retry`);
  const schedule = Object.freeze(scheduleList(options.schedule, where));
  schedule.forEach((entry, index) => {
    const label = `${where} schedule[${index}]${entry?.name ? ` (${entry.name})` : ''}`;
    if (typeof entry?.task !== 'string') throw new ConfigError(`${label}: task must be a task name`, { field: `schedule[${index}].task` });
    if (!byName.has(entry.task)) throw new ConfigError(`${label}: task ${JSON.stringify(entry.task)} is not one of this app's tasks`, { field: `schedule[${index}].task` });
  });
  return Object.freeze({
    kind: 'nightshift.app' as const,
    name,
    tasks: options.tasks,
    schedule,
    timezone,
    defaults,
    task: (taskName: string) => byName.get(taskName),
  });
}

/** The schedule as a list: the list form as given, the keyed form with each key as its entry's name. */
function scheduleList(input: unknown, where: string): ScheduleEntryInput[] {
  if (input === undefined) return [];
  if (Array.isArray(input)) return [...input as readonly ScheduleEntryInput[]];
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype) {
    throw new ConfigError(
      `${where}: schedule must be a list of entries, e.g. schedule: [{ name: 'nightly', task: 'reports.generate', schedule: '0 2 * * *' }], `
      + `or an object keyed by entry name, e.g. schedule: { nightly: { task: 'reports.generate', schedule: '0 2 * * *' } }`,
      { field: 'schedule' },
    );
  }
  return Object.entries(input).map(([key, entry]: [string, unknown]) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new ConfigError(`${where} schedule.${key}: an entry must be an object { task, schedule, … }`, { field: `schedule.${key}` });
    }
    const named = (entry as { name?: unknown }).name;
    if (named !== undefined && named !== key) {
      throw new ConfigError(`${where} schedule.${key}: its name ${JSON.stringify(named)} differs from its key; the key is the entry's name, drop one of them`, { field: `schedule.${key}.name` });
    }
    return { ...(entry as ScheduleEntryInput), name: key };
  });
}

export function isApp(value: unknown): value is AnyApp {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'nightshift.app';
}

/** Applies task, then app, then global defaults. */
export function resolveTaskSettings(app: AnyApp, task: AnyTask): ResolvedTaskSettings {
  const where = `task ${JSON.stringify(task.name)}`;
  const appSoft = app.defaults.softTimeLimit === undefined ? undefined : parseDuration(app.defaults.softTimeLimit, 'defaults.softTimeLimit');
  const appHard = app.defaults.timeLimit === undefined ? undefined : parseDuration(app.defaults.timeLimit, 'defaults.timeLimit');
  const soft = task.softTimeLimitMs ?? appSoft;
  const hard = task.timeLimitMs ?? appHard;
  return Object.freeze({
    queue: task.queue ?? app.defaults.queue ?? GLOBAL_DEFAULTS.queue,
    softTimeLimitMs: soft ?? GLOBAL_DEFAULTS.softTimeLimitMs,
    timeLimitMs: hard ?? GLOBAL_DEFAULTS.timeLimitMs,
    limitsFromGlobalDefault: Object.freeze({ soft: soft === undefined, hard: hard === undefined }),
    retry: compileRetryPolicy(task.retry, `${where} retry`, app.defaults.retry),
  });
}

// Zones the runtime has accepted: building an Intl.DateTimeFormat costs about a millisecond and much ICU memory,
// which a beat checking 100,000 runtime entries (in a few dozen zones) would pay for each.
const knownZones = new Set<string>();

/** Returns the zone if the runtime knows it; otherwise throws a ConfigError naming `field`. */
export function validateTimezone(zone: unknown, field: string): string {
  if (typeof zone !== 'string' || zone === '') throw new ConfigError(`${field}: must be an IANA zone name such as 'Europe/Berlin'`, { field });
  if (knownZones.has(zone)) return zone;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new ConfigError(`${field}: unknown time zone ${JSON.stringify(zone)} (use an IANA name such as 'UTC' or 'America/New_York')`, { field });
  }
  knownZones.add(zone);
  return zone;
}
