import { closest } from '@nightshift/core';
import { requireApp } from '../arguments.ts';
import { defineCommand, UsageError, type Command } from '../command.ts';
import { explainSchedule } from './schedule-explain.ts';
import { createEntry, removeEntry, updateEntry } from './schedule-edit.ts';
import { backfillEntry, pauseEntry, resumeEntry, runEntryNow } from './schedule-actions.ts';
import { listEntries, showEntry, showHistory } from './schedule-read.ts';
import { ENTRY_OPTIONS } from './schedule-input.ts';

export interface ScheduleCommandSettings {
  /** The clock fire times are counted from (explain). Default: `Date.now`. */
  readonly now?: () => number;
}

const options = {
  app: { type: 'string' },
  count: { type: 'string' },
  from: { type: 'string' },
  to: { type: 'string' },
  name: { type: 'string' },
  file: { type: 'string' },
  ...ENTRY_OPTIONS,
  version: { type: 'string' },
  yes: { type: 'boolean', short: 'y', default: false },
  force: { type: 'boolean', default: false },
  rate: { type: 'string' },
  limit: { type: 'string' },
  before: { type: 'string' },
} as const;

type OptionName = keyof typeof options;
const ENTRY = Object.keys(ENTRY_OPTIONS) as OptionName[];

/** Which options each action takes (besides --app), so that a misplaced one is an error rather than silently ignored. */
const ACCEPTS: Readonly<Record<string, readonly OptionName[]>> = {
  list: [],
  show: [],
  create: ['name', 'file', ...ENTRY],
  update: ['file', 'version', ...ENTRY],
  remove: ['version', 'yes'],
  pause: ['note'],
  resume: [],
  'run-now': ['force'],
  backfill: ['from', 'to', 'rate'],
  history: ['limit', 'before'],
  explain: ['count', 'from'],
};

/** The actions that take an entry's name. */
const NAMED = ['show', 'update', 'remove', 'pause', 'resume', 'run-now', 'backfill', 'history'];
const ACTIONS = 'the actions are list, show, create, update, remove, pause, resume, run-now, backfill, history and explain';

const usage = `Usage: nightshift schedule <action> [<name>] --app <path> [options]

The schedule's entries: those of the app's code and those created at runtime (stored in PostgreSQL), one list
to beat. Any entry can be paused, resumed, run now and backfilled; runtime entries can also be created, changed
and removed here (an entry of the code changes in the code). Beat applies a change within a second. Every
action records who did it: your login name.

Actions:
  list                      every entry: where it is defined, its task, schedule in words, zone, paused or not, next run
  show <name>               one entry: its definition, who created and last changed it, its version, paused or
                            not (who, when, why), its next fire times
  create --name N --task T (--cron '<expr>' | --every <dur>) [entry options]
  create --file entry.json  a runtime entry; the file is its JSON form (name, task, schedule, … and note)
  update <name> [entry options] [--file F] [--version V]
                            changes the options given, keeps the rest; made against the version just read
                            unless --version says which: if someone changed the entry meanwhile, nothing is
                            changed and the conflict says so (show it again, then decide)
  remove <name> [--version V] [--yes]
                            deletes a runtime entry; asks first unless --yes (needed when not on a terminal)
  pause <name> [--note N]   no run is sent while paused; the runs that fall due are counted missed (paused)
  resume <name>             runs are sent again from the next fire time; the missed ones are not caught up
  run-now <name> [--force]  sends one run at once (origin manual); an entry whose overlap policy is skip or
                            buffer-one refuses while its last run has not finished, unless --force
  backfill <name> --from T --to T [--rate N]
                            sends each fire time of the range once, oldest first, N a second (default 10): a
                            fire time already sent (by beat, a run now or an earlier backfill) is not sent again
  history <name> [--limit N] [--before T]
                            the next fire times, and the recent fires newest first: sent (run id, lateness, the
                            run's outcome and runtime) or not sent and why (paused, overlap, misfire, expired)
  explain [--count N] [--from T]
                            the app's code entries the way beat reads them, each in its own zone, with jitter
                            and start and end dates, and what the next DST change does; needs no server

Entry options (create, update):
      --task <name>         the task to send (one of the app's)
      --cron '<expr>'       five cron fields, e.g. '0 9 * * mon-fri', read in the entry's zone
      --every <dur>         an interval instead, e.g. 5m
      --timezone <zone>     the IANA zone of the cron, e.g. Europe/Berlin (default: the app's)
      --args <json>         the task's arguments, a JSON array
      --kwargs <json>       keyword arguments, a JSON object
      --queue <name>        another queue than the task's
      --expires <dur>       a run not started this long after it was sent is not run
      --misfire <policy>    skip, once (default) or all; or JSON, e.g. '{"policy":"all","cap":3}'
      --overlap <policy>    allow (default), skip or buffer-one
      --jitter <dur>        send each run a fixed offset of up to this after its fire time, e.g. 30s
      --start-at <time>     no fire time before this (ISO 8601 with Z or an offset)
      --end-at <time>       no fire time after this
      --alert <json>        when its silence or failures page someone, e.g. '{"overdueAfter": "10m", "afterFailures": 3}'
      --note <text>         why the entry exists, or why it changed (pause: why it is paused)
  On update, "none" removes --timezone, --queue, --expires, --jitter, --start-at, --end-at, --alert and --note.

The store is NIGHTSHIFT_DATABASE_URL, schema NIGHTSHIFT_DATABASE_SCHEMA; run-now and backfill also use
NIGHTSHIFT_AMQP_URL, NIGHTSHIFT_REDIS_URL (beat's claims: a fire time is never sent twice) and NIGHTSHIFT_PREFIX.

Examples:
  nightshift schedule list --app ./app.ts
  nightshift schedule create --app ./app.ts --name eu-report --task reports.generate --cron '0 9 * * *' --timezone Europe/Berlin --args '["usage"]' --jitter 30s
  nightshift schedule update eu-report --app ./app.ts --cron '30 9 * * *' --note "after the partner's batch"
  nightshift schedule pause nightly --app ./app.ts --note "partner API down, INC-142"
  nightshift schedule backfill nightly --app ./app.ts --from 2026-11-20T00:00Z --to 2026-11-24T00:00Z
  nightshift schedule history nightly --app ./app.ts --json | jq -r 'select(.state != "sent") | .fireTime'
  nightshift schedule explain --app ./app.ts --from 2027-03-27T00:00Z   # the weekend clocks go forward`;

/** `nightshift schedule`, with the clock of explain replaceable for tests. */
export function createScheduleCommand(settings: ScheduleCommandSettings = {}): Command {
  return defineCommand({
    name: 'schedule',
    summary: 'list, create, change, pause, run now, backfill and explain schedule entries; each one\'s history',
    usage,
    options,
    positionals: true,
    async run({ values, positionals }, io) {
      const [action, ...rest] = positionals;
      if (action === undefined || !Object.hasOwn(ACCEPTS, action)) {
        const suggestion = action === undefined ? undefined : closest(action, Object.keys(ACCEPTS));
        throw new UsageError(
          action === undefined ? '"nightshift schedule" needs an action' : `unknown action ${JSON.stringify(action)} for "nightshift schedule"`,
          suggestion ? `did you mean "nightshift schedule ${suggestion}"? (${ACTIONS})` : `${ACTIONS} (nightshift schedule --help says more)`,
        );
      }
      const accepted = ACCEPTS[action] ?? [];
      for (const name of Object.keys(options) as OptionName[]) {
        if (name === 'app' || !given(values as unknown as Readonly<Record<string, unknown>>, name) || accepted.includes(name)) continue;
        throw new UsageError(`--${name} does not apply to "schedule ${action}"`, accepted.length > 0 ? `it takes ${accepted.map((o) => `--${o}`).join(', ')}` : 'it takes no options but --app and --json');
      }
      const named = NAMED.includes(action);
      if (!named && rest.length > 0) {
        throw new UsageError(`unexpected ${JSON.stringify(rest[0])} after "${action}"`, action === 'create' ? 'the name of a new entry is --name <name>' : `"schedule ${action}" takes no name`);
      }
      if (named && rest.length !== 1) {
        throw new UsageError(rest.length === 0 ? `"schedule ${action}" needs the entry's name` : `"schedule ${action}" takes one name, got ${rest.length}`, `e.g. nightshift schedule ${action} nightly --app ./app.ts (nightshift schedule list shows the names)`);
      }
      const appPath = requireApp(values, `schedule ${action}`);
      const name = rest[0] as string;
      switch (action) {
        case 'explain': return explainSchedule(appPath, values, io, settings.now ?? Date.now);
        case 'list': return listEntries(appPath, values, io);
        case 'show': return showEntry(appPath, name, values, io);
        case 'history': return showHistory(appPath, name, values, io);
        case 'create': return createEntry(appPath, values, io);
        case 'update': return updateEntry(appPath, name, values, io);
        case 'remove': return removeEntry(appPath, name, values, io);
        case 'pause': return pauseEntry(appPath, name, values, io);
        case 'resume': return resumeEntry(appPath, name, values, io);
        case 'run-now': return runEntryNow(appPath, name, values, io);
        default: return backfillEntry(appPath, name, values, io);
      }
    },
  });
}

/** Whether an option was given on the command line (a boolean's default `false` is not). */
function given(values: Readonly<Record<string, unknown>>, name: OptionName): boolean {
  const value = values[name];
  return typeof value === 'boolean' ? value : value !== undefined;
}

export const schedule = createScheduleCommand();
