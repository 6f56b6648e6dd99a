import { UsageError, type Io } from '../command.ts';
import { reviewer, withDeadLetters } from './dead-letters-store.ts';

/** `nightshift dead-letters ignore <id…> [--note]`: sets dead letters aside on purpose, saying who and why. */
export async function ignoreDeadLetters(ids: readonly string[], values: { readonly note?: string; readonly json: boolean }, io: Io): Promise<number> {
  if (ids.length === 0) throw new UsageError('"nightshift dead-letters ignore" needs the ids to ignore', 'e.g. nightshift dead-letters ignore 42 43 --note "known outage, data fixed by hand"');
  return withDeadLetters(io, async (deadLetters) => {
    const by = reviewer(io);
    const ignored = await deadLetters.ignore(ids, { by, ...(values.note !== undefined ? { note: values.note } : {}) });
    if (values.json) for (const id of ignored) io.stdout.write(`${JSON.stringify({ id, status: 'ignored', by, note: values.note ?? null })}\n`);
    else io.stdout.write(`ignored ${ignored.map((id) => `#${id}`).join(', ')}${values.note ? ` (${values.note})` : ''}\n`);
    return 0;
  });
}
