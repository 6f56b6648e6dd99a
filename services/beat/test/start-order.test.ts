import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { LiveEntry } from '../src/entry-source.ts';
import { soonestFirst } from '../src/start-order.ts';

// Only the name matters to the order's key function here; the rest of an entry is not read.
const live = (name: string): LiveEntry => ({ entry: { name } }) as unknown as LiveEntry;

test('a start of many entries starts the soonest due first; equals keep their order; one whose time fails starts first', async () => {
  const due: Record<string, number> = { a: 300, b: 100, c: 200, d: 100, e: 50 };
  const entries = ['a', 'b', 'c', 'd', 'e', 'broken'].map(live);
  const ordered = await soonestFirst(entries, ({ entry }) => {
    const at = due[entry.name];
    if (at === undefined) throw new Error('no fire time');
    return at;
  });
  assert.deepEqual(ordered.map(({ entry }) => entry.name), ['broken', 'e', 'b', 'd', 'c', 'a']);
  assert.deepEqual(entries.map(({ entry }) => entry.name), ['a', 'b', 'c', 'd', 'e', 'broken'], 'the list given is left as it was');
});

test('the order of 5,000 entries is worked out over several turns of the event loop, not in one', async () => {
  const entries = Array.from({ length: 5_000 }, (_, i) => live(`e${i}`));
  let turns = 0;
  const counting = setInterval(() => { turns += 1; }, 0);
  let worked = 0;
  const ordered = await soonestFirst(entries, ({ entry }) => {
    worked += 1;
    // Each time costs a little, as a cron's next fire time does.
    const until = performance.now() + 0.01;
    while (performance.now() < until);
    return -Number(entry.name.slice(1));
  });
  clearInterval(counting);
  assert.equal(worked, 5_000);
  assert.equal(ordered[0]?.entry.name, 'e4999');
  assert.ok(turns >= 2, `timers ran ${turns} times while the order was worked out`);
});
