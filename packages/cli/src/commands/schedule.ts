import { ConfigError, loadApp } from '@nightshift/core';
import {
  checkScheduleEntries, describeMisfire, describeSchedule, formatInZone, nextFireTimes, type ScheduleEntry,
} from '@nightshift/schedule';
import { defineCommand, UsageError, type Command, type Writer } from '../command.ts';

export interface ScheduleCommandSettings {
  /** The clock fire times are counted from. Default: `Date.now`. */
  readonly now?: () => number;
}

const options = {
  app: { type: 'string' },
  count: { type: 'string', default: '5' },
} as const;

const usage = `Usage: nightshift schedule explain --app <path> [--count <n>]

Explains the app's schedule the way beat reads it: each entry, its task, its schedule in words, its
misfire policy, and its next fire times in the app's time zone and in UTC. Every entry is checked as
beat checks it at start-up; an invalid entry is printed with what is wrong, and the exit code is 2.

Options:
      --app <path>    the module whose default export is the app (defineApp); required
      --count <n>     how many fire times to show per entry (default: 5)

Examples:
  nightshift schedule explain --app examples/factory/app.ts
  nightshift schedule explain --app ./app.ts --count 10 --json | jq '.next[0]'`;

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
      if (values.app === undefined) throw new UsageError('"nightshift schedule explain" needs --app <path>: the module whose default export is your app', 'e.g. --app examples/factory/app.ts');
      const count = Number(values.count);
      if (!/^\d+$/.test(values.count) || count < 1 || count > 1000) throw new UsageError(`--count ${JSON.stringify(values.count)} must be a whole number from 1 to 1000`);

      const app = await loadApp(values.app, io.cwd);
      const zone = app.timezone;
      const { problems, outcomes } = checkScheduleEntries(app.schedule, app.tasks.map((task) => task.name));
      const now = (settings.now ?? Date.now)();
      if (!values.json) io.stdout.write(`app "${app.name}": ${app.schedule.length} schedule ${app.schedule.length === 1 ? 'entry' : 'entries'}, time zone ${zone}\n`);
      for (const outcome of outcomes) {
        if ('entry' in outcome) {
          explainEntry(io.stdout, outcome.entry, zone, nextFireTimes(outcome.entry.schedule, now, zone, count), values.json);
        } else if (values.json) {
          io.stdout.write(`${JSON.stringify({ index: outcome.index, entry: outcome.problem.name ?? null, valid: false, error: outcome.problem.message })}\n`);
        } else {
          io.stdout.write(`\n${outcome.problem.name ?? `schedule[${outcome.index}]`}: INVALID\n  ${outcome.problem.message}\n`);
        }
      }
      if (problems.length === 0) return 0;
      throw new ConfigError(`${problems.length} of ${app.schedule.length} schedule entries ${problems.length === 1 ? 'is' : 'are'} invalid; beat would not start`, { field: 'schedule' });
    },
  });
}

function explainEntry(out: Writer, entry: ScheduleEntry, zone: string, times: readonly number[], json: boolean): void {
  const words = describeSchedule(entry.schedule, zone);
  const misfire = describeMisfire(entry.misfire);
  if (json) {
    const schedule = entry.schedule.type === 'cron'
      ? { type: 'cron', expression: entry.schedule.expression, fixedTime: entry.schedule.fixedTime }
      : { type: 'interval', everyMs: entry.schedule.everyMs, anchor: new Date(entry.schedule.anchorMs).toISOString() };
    out.write(`${JSON.stringify({
      entry: entry.name, valid: true, task: entry.task, schedule, description: words, timezone: zone,
      misfire: { policy: entry.misfire.policy, graceMs: entry.misfire.graceMs ?? null, cap: entry.misfire.cap },
      ...(entry.queue !== undefined ? { queue: entry.queue } : {}),
      next: times.map((ms) => ({ utc: new Date(ms).toISOString(), local: formatInZone(ms, zone) })),
    })}\n`);
    return;
  }
  const source = entry.schedule.type === 'cron' ? ` ('${entry.schedule.expression}')` : '';
  const lines = [
    '',
    `${entry.name} → ${entry.task}${entry.queue === undefined ? '' : ` (queue ${entry.queue})`}`,
    `  ${words}${source}`,
    `  misfire: ${misfire}`,
    `  ${times.length === 1 ? 'next fire time' : `next ${times.length} fire times`} (${zone === 'UTC' ? 'UTC' : `${zone}, then UTC`}):`,
    ...times.map((ms) => `    ${formatInZone(ms, zone)}   ${new Date(ms).toISOString().replace('.000Z', 'Z')}`),
  ];
  out.write(`${lines.join('\n')}\n`);
}

export const schedule = createScheduleCommand();
