import { ConfigError, loadApp } from '@nightshift/core';
import {
  checkScheduleEntries, describeMisfire, describeNextDstChange, describeSchedule, formatInZone, nextFireTimes, type EntryProblem, type ScheduleEntry,
} from '@nightshift/schedule';
import { defineCommand, UsageError, type Command } from '../command.ts';
import { requireApp } from '../arguments.ts';

export interface ScheduleCommandSettings {
  /** The clock fire times are counted from. Default: `Date.now`. */
  readonly now?: () => number;
}

/** An instant: a date (midnight UTC), or a date and time with `Z` or an offset (never the machine's zone). */
const INSTANT = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/i;

const options = {
  app: { type: 'string' },
  count: { type: 'string', default: '5' },
  from: { type: 'string' },
} as const;

const usage = `Usage: nightshift schedule explain --app <path> [--count <n>] [--from <instant>]

Explains the app's schedule the way beat reads it: each entry, its task and arguments, its schedule in
words, its misfire policy, its next fire times in the app's time zone and in UTC, and what the zone's next
DST change does to it (a time that does not exist, or happens twice). Every entry is checked as beat
checks it at start-up; an invalid entry is printed with what is wrong, the others still are, and the exit
code is 2.

Options:
      --app <path>       the module whose default export is the app (defineApp); required
      --count <n>        how many fire times to show per entry (default: 5)
      --from <instant>   count fire times from this instant instead of now, e.g. 2027-03-27T12:00Z

Examples:
  nightshift schedule explain --app examples/factory/app.ts
  nightshift schedule explain --app ./app.ts --count 10 --json | jq '.next[0]'
  nightshift schedule explain --app ./app.ts --from 2027-03-27T00:00Z   # the weekend clocks go forward`;

/** `nightshift schedule explain`, with the clock replaceable for tests. */
export function createScheduleCommand(settings: ScheduleCommandSettings = {}): Command {
  return defineCommand({
    name: 'schedule',
    summary: 'explain an app\'s schedule: each entry in words and its next fire times',
    usage,
    options,
    positionals: true,
    async run({ values, positionals }, io) {
      const [action, ...extra] = positionals;
      if (action !== 'explain') {
        throw new UsageError(action === undefined ? '"nightshift schedule" needs an action: explain' : `unknown action ${JSON.stringify(action)} for "nightshift schedule"`, 'e.g. nightshift schedule explain --app examples/factory/app.ts');
      }
      if (extra.length > 0) throw new UsageError(`unexpected ${JSON.stringify(extra[0])} after "explain"`);
      const appPath = requireApp(values, 'schedule explain');
      const count = Number(values.count);
      if (!/^\d+$/.test(values.count) || count < 1 || count > 1000) throw new UsageError(`--count ${JSON.stringify(values.count)} must be a whole number from 1 to 1000`);

      const from = values.from === undefined ? (settings.now ?? Date.now)() : Date.parse(values.from);
      if (values.from !== undefined && (!INSTANT.test(values.from) || Number.isNaN(from))) throw new UsageError(`--from ${JSON.stringify(values.from)} is not an instant`, 'e.g. --from 2027-03-27T12:00Z (an ISO 8601 date and time; Z or an offset for UTC)');

      const app = await loadApp(appPath, io.cwd);
      const zone = app.timezone;
      const { outcomes } = checkScheduleEntries(app.schedule, app.tasks.map((task) => task.name));
      const since = values.from === undefined ? '' : `, fire times after ${new Date(from).toISOString().replace('.000Z', 'Z')}`;
      if (!values.json) io.stdout.write(`app "${app.name}": ${app.schedule.length} schedule ${app.schedule.length === 1 ? 'entry' : 'entries'}, time zone ${zone}${since}\n`);
      let invalid = 0;
      for (const outcome of outcomes) {
        const explained = 'entry' in outcome ? explainEntry(outcome.index, outcome.entry, zone, from, count, values.json) : outcome.problem;
        if (typeof explained === 'string') {
          io.stdout.write(explained);
          continue;
        }
        invalid += 1;
        io.stdout.write(values.json
          ? `${JSON.stringify({ index: explained.index, entry: explained.name ?? null, valid: false, error: explained.message })}\n`
          : `\n${explained.name ?? `schedule[${explained.index}]`}: INVALID\n  ${explained.message}\n`);
      }
      if (invalid === 0) return 0;
      throw new ConfigError(`${invalid} of ${app.schedule.length} schedule entries ${invalid === 1 ? 'is' : 'are'} invalid; beat would not start`, { field: 'schedule' });
    },
  });
}

/**
 * The entry as text (one JSON line with `json`); or, should its fire times not be computable although beat's
 * checks accepted it, that as the entry's problem, so the entries after it are still explained.
 */
function explainEntry(index: number, entry: ScheduleEntry, zone: string, from: number, count: number, json: boolean): string | EntryProblem {
  let times: number[];
  let dst: string | undefined;
  try {
    times = nextFireTimes(entry.schedule, from, zone, count);
    dst = describeNextDstChange(entry.schedule, zone, from);
  } catch (error) {
    return { index, name: entry.name, message: `schedule[${index}] ${JSON.stringify(entry.name)}: ${error instanceof Error ? error.message : String(error)}` };
  }
  const words = describeSchedule(entry.schedule, zone);
  const hasKwargs = Object.keys(entry.kwargs).length > 0;
  if (json) {
    const schedule = entry.schedule.type === 'cron'
      ? { type: 'cron', expression: entry.schedule.expression, fixedTime: entry.schedule.fixedTime }
      : { type: 'interval', everyMs: entry.schedule.everyMs, anchor: new Date(entry.schedule.anchorMs).toISOString() };
    return `${JSON.stringify({
      entry: entry.name, valid: true, task: entry.task, args: entry.args, kwargs: entry.kwargs, schedule, description: words, timezone: zone,
      misfire: { policy: entry.misfire.policy, graceMs: entry.misfire.graceMs ?? null, cap: entry.misfire.cap },
      ...(entry.queue !== undefined ? { queue: entry.queue } : {}),
      next: times.map((ms) => ({ utc: new Date(ms).toISOString(), local: formatInZone(ms, zone) })),
      dst: dst ?? null,
    })}\n`;
  }
  const source = entry.schedule.type === 'cron' ? ` ('${entry.schedule.expression}')` : '';
  const call = `${entry.task}(${entry.args.map((arg) => JSON.stringify(arg)).join(', ')}${hasKwargs ? `${entry.args.length > 0 ? ', ' : ''}${JSON.stringify(entry.kwargs)}` : ''})`;
  const lines = [
    '',
    `${entry.name} → ${call}${entry.queue === undefined ? '' : ` (queue ${entry.queue})`}`,
    `  ${words}${source}`,
    `  misfire: ${describeMisfire(entry.misfire)}`,
    ...(dst === undefined ? [] : [`  DST: ${dst}`]),
    `  ${times.length === 1 ? 'next fire time' : `next ${times.length} fire times`} (${zone === 'UTC' ? 'UTC' : `${zone}, then UTC`}):`,
    ...times.map((ms) => `    ${formatInZone(ms, zone)}   ${new Date(ms).toISOString().replace('.000Z', 'Z')}`),
  ];
  return `${lines.join('\n')}\n`;
}

export const schedule = createScheduleCommand();
