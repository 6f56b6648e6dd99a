import { ConfigError, parseDuration, validateQueueName, type Duration } from '@nightshift/core';
import { compileMisfire, type MisfirePolicy } from './misfire.ts';
import { toSchedule, type Schedule } from './schedule.ts';

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
const ENTRY_FIELDS = ['name', 'task', 'schedule', 'args', 'kwargs', 'options', 'misfire'];
const OPTION_FIELDS = ['queue', 'expires'];

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
      const entry = compileEntry(input, label, taskNames);
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

function compileEntry(input: unknown, label: string, taskNames: readonly string[] | undefined): ScheduleEntry {
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
  return Object.freeze({
    name,
    task: raw.task,
    schedule,
    args: Object.freeze([...args]),
    kwargs: Object.freeze({ ...(kwargs as Record<string, unknown>) }),
    queue: queue as string | undefined,
    expires: expires as Duration | undefined,
    misfire: compileMisfire(raw.misfire, label),
  });
}
