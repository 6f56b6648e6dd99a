import type { DeadLetterFilter } from '@nightshift/store';
import { UsageError, type Io } from '../command.ts';
import { reviewer } from '../reviewer.ts';
import { describeFilter, readSince, review, withDeadLetters } from './dead-letters-store.ts';

export interface IgnoreValues {
  readonly note?: string;
  readonly force?: boolean;
  readonly task?: string;
  readonly 'error-class'?: string;
  readonly reason?: string;
  readonly since?: string;
  readonly until?: string;
  readonly limit?: string;
  readonly yes?: boolean;
  readonly json: boolean;
}

/** A bulk ignore's batch: one statement each, so a long one shows its progress and holds no lock for long. */
const BATCH = 500;

/**
 * `nightshift dead-letters ignore <id…> [--note] [--force]`: sets dead letters aside on purpose, saying who and why.
 * One already ignored is refused unless `force` (the store's `IgnoreRefusedError`), as `requeue` refuses one
 * already requeued: its review would be replaced without anyone noticing.
 * By filter (`--task`, `--error-class`, `--reason`, a time range), as the dashboard's and the API's bulk ignore.
 */
export async function ignoreDeadLetters(ids: readonly string[], values: IgnoreValues, io: Io): Promise<number> {
  const byFilter = values.task !== undefined || values['error-class'] !== undefined || values.reason !== undefined;
  if (ids.length > 0 && byFilter) throw new UsageError('give ids or a filter (--task, --error-class, --reason), not both');
  if (ids.length === 0 && !byFilter) {
    throw new UsageError('"nightshift dead-letters ignore" needs the ids to ignore, or a filter (--task, --error-class, --reason)',
      'e.g. nightshift dead-letters ignore 42 43 --note "known outage, data fixed by hand", or ignore --error-class TimeoutError --since 2h --note "partner outage"');
  }
  if (byFilter) return ignoreByFilter(values, io);
  for (const flag of ['since', 'until', 'limit', 'yes'] as const) {
    if (values[flag] !== undefined && values[flag] !== false) throw new UsageError(`--${flag} applies to an ignore by filter (--task, --error-class, --reason), not to ids`);
  }
  return withDeadLetters(io, async (deadLetters) => {
    const by = reviewer(io);
    const outcomes = await deadLetters.ignore(ids, { by, ...(values.note !== undefined ? { note: values.note } : {}) }, { force: values.force === true });
    if (values.json) {
      for (const { id, replaced } of outcomes) {
        io.stdout.write(`${JSON.stringify({ id, status: 'ignored', by, note: values.note ?? null, replaced: replaced ? { by: replaced.by, at: replaced.at, note: replaced.note } : null })}\n`);
      }
      return 0;
    }
    io.stdout.write(`ignored ${outcomes.map(({ id }) => `#${id}`).join(', ')}${values.note ? ` (${values.note})` : ''}\n`);
    for (const { replaced } of outcomes) if (replaced) io.stdout.write(`#${replaced.id} was already ignored ${review(replaced)}; that review is replaced\n`);
    return 0;
  });
}

/**
 * The pending dead letters of a filter, counted, confirmed (unless `--yes`), then ignored oldest first in batches,
 * at most the count confirmed: a letter that arrives meanwhile is not swept up with the ones the person saw.
 * Only pending ones: a letter already reviewed keeps its review (`--force` is for ids).
 */
async function ignoreByFilter(values: IgnoreValues, io: Io): Promise<number> {
  if (values.force === true) throw new UsageError('--force applies to ids: an ignore by filter takes pending dead letters only, and leaves reviewed ones as they are');
  if (values.note === undefined || values.note.trim() === '') {
    throw new UsageError('an ignore by filter needs --note: why these are set aside (it is kept with each)', 'e.g. --note "partner outage INC-142, data fixed by hand"');
  }
  const limit = values.limit === undefined ? undefined : Number(values.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit >= 1)) throw new UsageError(`--limit ${JSON.stringify(values.limit)} must be a whole number of at least 1`);
  const filter: DeadLetterFilter = {
    ...(values.task !== undefined ? { task: values.task } : {}), ...(values['error-class'] !== undefined ? { errorClass: values['error-class'] } : {}),
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
    ...(values.since !== undefined ? { since: readSince(values.since) } : {}), ...(values.until !== undefined ? { until: readSince(values.until) } : {}),
  };
  const described = describeFilter(values);
  return withDeadLetters(io, async (deadLetters) => {
    const matching = await deadLetters.count({ ...filter, status: 'pending' });
    const total = Math.min(matching, limit ?? matching);
    if (total === 0) {
      if (!values.json) io.stdout.write(`nothing to ignore: no pending dead letters ${described}\n`); // with --json: no ids, no lines
      return 0;
    }
    if (values.yes !== true) {
      const some = total < matching ? `the oldest ${total} of the ${matching}` : `${total}`;
      const answer = await io.ask(`ignore ${some} pending dead letter${total === 1 ? '' : 's'} ${described}, noting ${JSON.stringify(values.note)}? [y/N] `);
      if (answer === undefined) throw new UsageError(`"nightshift dead-letters ignore" asks before it ignores ${total} dead letters, and nobody is at a terminal to answer`, 'add --yes to ignore without asking (nothing was done)');
      if (!/^y(es)?$/i.test(answer.trim())) {
        if (!values.json) io.stdout.write('nothing done\n');
        return 1;
      }
    }
    const by = reviewer(io);
    let done = 0;
    while (done < total) {
      const batch = await deadLetters.ignorePending(filter, Math.min(BATCH, total - done), { by, note: values.note as string });
      if (batch.length === 0) break; // the rest were reviewed by someone else meanwhile
      done += batch.length;
      if (values.json) for (const id of batch) io.stdout.write(`${JSON.stringify({ id, status: 'ignored', by, note: values.note, replaced: null })}\n`);
      else io.stderr.write(`ignored ${done} of ${total}\n`);
    }
    if (!values.json) io.stdout.write(`ignored ${done} dead letter${done === 1 ? '' : 's'} ${described} (${values.note as string})${done < total ? `; ${total - done} were reviewed by someone else meanwhile` : ''}\n`);
    return 0;
  });
}
