import { UsageError, type Io } from '../command.ts';
import { reviewer } from '../reviewer.ts';
import { review, withDeadLetters } from './dead-letters-store.ts';

/**
 * `nightshift dead-letters ignore <id…> [--note] [--force]`: sets dead letters aside on purpose, saying who and why.
 * One already ignored is refused unless `force` (the store's `IgnoreRefusedError`), as `requeue` refuses one
 * already requeued: its review would be replaced without anyone noticing.
 */
export async function ignoreDeadLetters(ids: readonly string[], values: { readonly note?: string; readonly force?: boolean; readonly json: boolean }, io: Io): Promise<number> {
  if (ids.length === 0) throw new UsageError('"nightshift dead-letters ignore" needs the ids to ignore', 'e.g. nightshift dead-letters ignore 42 43 --note "known outage, data fixed by hand"');
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
