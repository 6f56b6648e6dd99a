import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LiveEntry } from '../src/entry-source.ts';
import { soonestFirst } from '../src/start-order.ts';

// Only the name matters to the order's key function here; the rest of an entry is not read.
const live = (name: string): LiveEntry => ({ entry: { name } }) as unknown as LiveEntry;

test('a start of many entries starts the soonest due first; equals keep their order; one whose time fails starts first', () => {
  const due: Record<string, number> = { a: 300, b: 100, c: 200, d: 100, e: 50 };
  const entries = ['a', 'b', 'c', 'd', 'e', 'broken'].map(live);
  const ordered = soonestFirst(entries, ({ entry }) => {
    const at = due[entry.name];
    if (at === undefined) throw new Error('no fire time');
    return at;
  });
  assert.deepEqual(ordered.map(({ entry }) => entry.name), ['broken', 'e', 'b', 'd', 'c', 'a']);
  assert.deepEqual(entries.map(({ entry }) => entry.name), ['a', 'b', 'c', 'd', 'e', 'broken'], 'the list given is left as it was');
});
