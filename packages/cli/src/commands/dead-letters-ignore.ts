import { DeadLetterNotFoundError, type DeadLetter, type DeadLetters } from '@nightshift/store';
import { UsageError, type Io } from '../command.ts';
import { reviewer, shortTime, withDeadLetters } from './dead-letters-store.ts';

/**
 * `nightshift dead-letters ignore <id…> [--note] [--force]`: sets dead letters aside on purpose, saying who and why.
 * One already ignored is refused unless `force`, as `requeue` refuses one already requeued: its review would be
 * replaced without anyone noticing.
 */
export async function ignoreDeadLetters(ids: readonly string[], values: { readonly note?: string; readonly force?: boolean; readonly json: boolean }, io: Io): Promise<number> {
  if (ids.length === 0) throw new UsageError('"nightshift dead-letters ignore" needs the ids to ignore', 'e.g. nightshift dead-letters ignore 42 43 --note "known outage, data fixed by hand"');
  return withDeadLetters(io, async (deadLetters) => {
    const already = (await fetchAll(deadLetters, ids)).filter((d) => d.status === 'ignored');
    if (already.length > 0 && values.force !== true) {
      throw new UsageError(already.map((d) => `dead letter #${d.id} was already ignored ${review(d)}`).join('; '), `nothing was changed; add --force to ignore ${already.length === 1 ? 'it' : 'them'} again, replacing who and why`, { code: 'E_IGNORE_REFUSED' });
    }
    const by = reviewer(io);
    const ignored = await deadLetters.ignore(ids, { by, ...(values.note !== undefined ? { note: values.note } : {}) });
    if (values.json) {
      for (const id of ignored) {
        const replaced = already.find((d) => d.id === id);
        io.stdout.write(`${JSON.stringify({ id, status: 'ignored', by, note: values.note ?? null, replaced: replaced ? { by: replaced.statusBy, at: replaced.statusAt, note: replaced.statusNote } : null })}\n`);
      }
      return 0;
    }
    io.stdout.write(`ignored ${ignored.map((id) => `#${id}`).join(', ')}${values.note ? ` (${values.note})` : ''}\n`);
    for (const d of already) io.stdout.write(`#${d.id} was already ignored ${review(d)}; that review is replaced\n`);
    return 0;
  });
}

/** Every dead letter of `ids`; a missing one is an error naming all that are missing, as `DeadLetters.ignore` names them. */
async function fetchAll(deadLetters: DeadLetters, ids: readonly string[]): Promise<DeadLetter[]> {
  const settled = await Promise.allSettled(ids.map((id) => deadLetters.get(id)));
  const missing = settled.flatMap((s) => (s.status === 'rejected' && s.reason instanceof DeadLetterNotFoundError ? s.reason.ids : []));
  const other = settled.find((s) => s.status === 'rejected' && !(s.reason instanceof DeadLetterNotFoundError));
  if (other?.status === 'rejected') throw other.reason;
  if (missing.length > 0) throw new DeadLetterNotFoundError(missing);
  return settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
}

/** `by ana at 2026-11-24 20:01:02Z ("known outage")`. */
function review(d: DeadLetter): string {
  return `by ${d.statusBy ?? 'someone'} at ${shortTime(d.statusAt)}${d.statusNote ? ` (${JSON.stringify(d.statusNote)})` : ''}`;
}
