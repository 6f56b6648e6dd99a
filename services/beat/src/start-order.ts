import type { LiveEntry } from './entry-source.ts';

/**
 * The order in which a leader starts many entries at once: the soonest due first. Starting 100,000 entries (each
 * one's watermark read, its next fire time worked out) takes seconds; in name order an entry due in a second
 * waits behind all the names before it, and one never seen before (its runs start from when it starts) could lose
 * its first run. An entry whose time cannot be worked out starts first, where its error is said at once.
 * Entries due at the same moment keep their order (the sort is stable).
 */
export function soonestFirst(entries: readonly LiveEntry[], firstDue: (live: LiveEntry) => number): LiveEntry[] {
  const due = new Float64Array(entries.length);
  entries.forEach((live, i) => {
    try {
      due[i] = firstDue(live);
    } catch {
      due[i] = Number.NEGATIVE_INFINITY;
    }
  });
  const order = Array.from(entries.keys()).sort((a, b) => (due[a] as number) - (due[b] as number));
  return order.map((i) => entries[i] as LiveEntry);
}
