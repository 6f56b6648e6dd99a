import { defineCommand, UsageError } from '../command.ts';
import { closest } from '@nightshift/core';
import { ignoreDeadLetters } from './dead-letters-ignore.ts';
import { listDeadLetters } from './dead-letters-list.ts';
import { requeueDeadLetters } from './dead-letters-requeue.ts';
import { showDeadLetter } from './dead-letters-show.ts';

const options = {
  status: { type: 'string' },
  task: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  'error-class': { type: 'string' },
  reason: { type: 'string' },
  rate: { type: 'string' },
  limit: { type: 'string' },
  after: { type: 'string' },
  note: { type: 'string' },
  force: { type: 'boolean', default: false },
  yes: { type: 'boolean', short: 'y', default: false },
} as const;

/** Which options each action takes, so that a misplaced one is an error rather than silently ignored. */
const ACCEPTS: Readonly<Record<string, readonly (keyof typeof options)[]>> = {
  list: ['status', 'task', 'since', 'limit', 'after'],
  show: [],
  requeue: ['task', 'status', 'since', 'until', 'error-class', 'rate', 'note', 'force', 'yes'],
  ignore: ['note', 'force', 'task', 'error-class', 'reason', 'since', 'until', 'limit', 'yes'],
};

const usage = `Usage: nightshift dead-letters <action> [options]

Review and replay the dead letters the alerter stored in PostgreSQL: tasks that failed for good, messages
the worker could not read, and what the broker dead-lettered.

Actions:
  list [--status S] [--task T] [--since D] [--limit N] [--after C]
        newest first; --status pending, requeued, ignored or all (default: all, several comma-separated),
        --since a duration back from now (1h, 2d) or a time; the last line gives --after for the next page
  show <id>
        everything kept about one dead letter: args (secrets redacted), error and stack, attempts, trace id
  requeue <id…> | --task T [--error-class E] [--status S] [--since D] [--until D] [--rate N] [--note N] [--force] [--yes]
        sends the task again to its queue, with a fresh attempt count and origin "replay", linked to the
        original trace, and marks the row requeued; one already requeued is refused unless --force.
        By filter (--task and/or --error-class, a time range): says how many match and asks before it acts
        unless --yes (needed when not at a terminal); --rate N sends at most N a second (as SQS's redrive
        does), printing its progress
  ignore <id…> [--note N] [--force]
        marks dead letters ignored, with who (your login name) and why; one already ignored is refused
        unless --force, which replaces who ignored it and the note
  ignore --task T | --error-class E | --reason R [--since D] [--until D] [--limit N] --note N [--yes]
        ignores the pending dead letters of a filter, oldest first (at most --limit): says how many match and
        asks before it acts unless --yes (needed when not at a terminal), then prints its progress; the note
        is kept with each, as the dashboard's bulk ignore does

The store is NIGHTSHIFT_DATABASE_URL, schema NIGHTSHIFT_DATABASE_SCHEMA (default: nightshift); requeue also
uses NIGHTSHIFT_AMQP_URL and NIGHTSHIFT_PREFIX.

Examples:
  nightshift dead-letters list --status pending --since 1d
  nightshift dead-letters show 42
  nightshift dead-letters requeue 42 43 --note "report service fixed"
  nightshift dead-letters requeue --task reports.generateDaily --status pending
  nightshift dead-letters requeue --error-class TimeoutError --since 2h --rate 20
  nightshift dead-letters ignore 44 --note "duplicate of #42"
  nightshift dead-letters ignore --error-class TimeoutError --since 2h --note "partner outage INC-142"
  nightshift dead-letters list --json | jq -r 'select(.reason == "malformed") | .id'`;

export const deadLetters = defineCommand({
  name: 'dead-letters',
  summary: 'list, show, requeue or ignore the stored dead letters',
  usage,
  options,
  positionals: true,
  async run({ values, positionals }, io) {
    const [action, ...rest] = positionals;
    if (action === undefined || !Object.hasOwn(ACCEPTS, action)) {
      const suggestion = action === undefined ? undefined : closest(action, Object.keys(ACCEPTS));
      const actions = 'the actions are list, show <id>, requeue <id…> and ignore <id…>';
      throw new UsageError(
        action === undefined ? '"nightshift dead-letters" needs an action' : `unknown action ${JSON.stringify(action)}`,
        suggestion ? `did you mean "nightshift dead-letters ${suggestion}"? (${actions})` : `${actions} (nightshift dead-letters --help says more)`,
      );
    }
    const accepted = ACCEPTS[action] ?? [];
    for (const name of Object.keys(options) as (keyof typeof options)[]) {
      const given = name === 'force' || name === 'yes' ? values[name] : values[name] !== undefined;
      if (given && !accepted.includes(name)) throw new UsageError(`--${name} does not apply to "dead-letters ${action}"`, accepted.length > 0 ? `it takes ${accepted.map((o) => `--${o}`).join(', ')}` : 'it takes no options but --json');
    }
    switch (action) {
      case 'list':
        if (rest.length > 0) throw new UsageError(`"dead-letters list" takes no ids, got ${JSON.stringify(rest[0])}`, 'to see one: nightshift dead-letters show <id>');
        return listDeadLetters(values, io);
      case 'show':
        if (rest.length !== 1) throw new UsageError('"dead-letters show" needs exactly one id', 'e.g. nightshift dead-letters show 42');
        return showDeadLetter(rest[0] as string, values, io);
      case 'requeue':
        return requeueDeadLetters(rest, values, io);
      default:
        return ignoreDeadLetters(rest, values, io);
    }
  },
});
