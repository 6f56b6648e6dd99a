import { setImmediate as turn } from 'node:timers/promises';
import type { LiveEntry } from './entry-source.ts';

/** How many entries' first fire times are worked out between two turns given to the event loop. */
const PER_TURN = 2_000;

/**
 * The order in which a leader starts many entries at once: the soonest due first. Starting 100,000 entries (each
 * one's watermark read, its next fire time worked out) takes seconds; in name order an entry due in a second
 * waits behind all the names before it, and one never seen before (its runs start from when it starts) could lose
 * its first run. An entry whose time cannot be worked out starts first, where its error is said at once.
 * Entries due at the same moment keep their order (the sort is stable). The times are worked out a few thousand
 * per turn of the event loop: 100,000 at once would hold it (and the lease's renewals) for a second or more on a
 * busy machine.
 */
export async function soonestFirst(entries: readonly LiveEntry[], firstDue: (live: LiveEntry) => number): Promise<LiveEntry[]> {
  const due = new Float64Array(entries.length);
  for (let i = 0; i < entries.length; i++) {
    if (i > 0 && i % PER_TURN === 0) await turn();
    try {
      due[i] = firstDue(entries[i] as LiveEntry);
    } catch {
      due[i] = Number.NEGATIVE_INFINITY;
    }
  }
  const order = Array.from(entries.keys()).sort((a, b) => (due[a] as number) - (due[b] as number));
  return order.map((i) => entries[i] as LiveEntry);
}
