import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nightshift/core';
import { compileScheduleEntries } from '@nightshift/schedule';
import { EntryEngine } from '../src/entry-engine.ts';
import type { EntryLoop } from '../src/entry-loop.ts';
import { codeEntries } from '../src/entry-source.ts';
import { FireClock } from '../src/fire-clock.ts';

const quiet: Logger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

// A leader that loses its lease (or is stopped) with many entries waiting for their next fire time: what the stop
// allocates must not grow with the entries (it made eleven promises each: some 100 MB more RSS with 100,000).
test('a leader stopping with many entries waiting makes no promise per entry', async () => {
  const count = 5_000;
  const entries = codeEntries(compileScheduleEntries(Array.from({ length: count }, (_, i) => ({ name: `e${i}`, task: 't', schedule: '0 3 * * *' }))));
  const leading = new AbortController();
  const clock = new FireClock();
  leading.signal.addEventListener('abort', () => clock.close(), { once: true });
  let begun = 0;
  const engine = new EntryEngine({
    // Every entry begins, then waits an hour in the clock.
    loop: () => ({ begin: async () => { begun += 1; return 'ok'; }, catchUp: async () => Date.now() + 3_600_000 }) as unknown as EntryLoop,
    clock, notLeader: () => {}, ended: () => {}, log: quiet,
  }, leading.signal);
  engine.apply(entries);
  for (let waited = 0; clock.size < count && waited < 10_000; waited += 20) await sleep(20);
  assert.equal(begun, count);
  assert.equal(clock.size, count);

  let promises = 0;
  const hook = createHook({ init: (_id, type) => { if (type === 'PROMISE') promises += 1; } }).enable();
  try {
    leading.abort();
    await engine.stopped();
  } finally {
    hook.disable();
  }
  assert.ok(promises < 100, `${promises} promises made to stop ${count} waiting entries`);
});
