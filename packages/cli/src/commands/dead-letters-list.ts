import { DEAD_LETTER_STATUSES, type DeadLetterStatus } from '@nightshift/store';
import { UsageError, type Io } from '../command.ts';
import { clip, shortTime, table } from '../text-table.ts';
import { readSince, withDeadLetters } from './dead-letters-store.ts';

export interface ListValues {
  readonly status?: string;
  readonly task?: string;
  readonly since?: string;
  readonly limit?: string;
  readonly after?: string;
  readonly json: boolean;
}

/** `nightshift dead-letters list`: newest first, a page at a time. */
export async function listDeadLetters(values: ListValues, io: Io): Promise<number> {
  const status = values.status === undefined || values.status === 'all' ? undefined : values.status.split(',').map((s) => s.trim());
  for (const s of status ?? []) {
    if (!DEAD_LETTER_STATUSES.includes(s as DeadLetterStatus)) throw new UsageError(`--status ${JSON.stringify(s)} is not a status`, `use ${DEAD_LETTER_STATUSES.join(', ')} or all (several: --status pending,ignored)`);
  }
  const limit = values.limit === undefined ? 50 : Number(values.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError(`--limit ${JSON.stringify(values.limit)} must be a whole number from 1 to 1000`);
  const since = values.since === undefined ? undefined : readSince(values.since);
  return withDeadLetters(io, async (deadLetters) => {
    const page = await deadLetters.list({
      limit,
      ...(status ? { status: status as DeadLetterStatus[] } : {}),
      ...(values.task !== undefined ? { task: values.task } : {}),
      ...(since ? { since } : {}),
      ...(values.after !== undefined ? { after: values.after } : {}),
    });
    if (values.json) {
      for (const item of page.items) io.stdout.write(`${JSON.stringify(item)}\n`);
      if (page.next) io.stdout.write(`${JSON.stringify({ next: page.next })}\n`);
      return 0;
    }
    if (page.items.length === 0) {
      io.stdout.write(`no dead letters${values.after ? ' after that cursor' : ''}${status ? ` with status ${status.join(' or ')}` : ''}${values.task ? ` of task ${values.task}` : ''}${values.since ? ` since ${values.since}` : ''}\n`);
      return 0;
    }
    const rows = page.items.map((d) => [
      `#${d.id}`, shortTime(d.lastFailedAt), d.status, d.task ?? '-', d.reason, String(d.attempts ?? '-'),
      `${d.errorClass ?? '-'}${d.errorMessage ? `: ${clip(d.errorMessage, 60)}` : ''}`,
    ]);
    io.stdout.write(`${table([['ID', 'LAST FAILED', 'STATUS', 'TASK', 'REASON', 'ATTEMPTS', 'ERROR'], ...rows])}\n`);
    if (page.next) io.stdout.write(`more: nightshift dead-letters list --after ${page.next}${values.status ? ` --status ${values.status}` : ''}${values.task ? ` --task ${values.task}` : ''}\n`);
    return 0;
  });
}
