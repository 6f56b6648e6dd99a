// The change fence's read ahead (`readAhead`, then one read of the change mark at the fire time), against a source
// whose answers the test sets: what it may take from a read made before the fire time, and what it must not.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate } from 'node:timers/promises';
import { compileScheduleEntries } from '@nightshift/schedule';
import { ChangeFence } from '../src/change-fence.ts';
import { codeEntries, type EntrySource, type LiveEntry } from '../src/entry-source.ts';
import { capturingLogger } from './support.ts';

/** What the source answers now: each entry standing as loaded or not, its change mark, or no answer at all. */
interface Answers {
  readonly current: Map<string, boolean>;
  mark: string;
  down: boolean;
}

function source(answers: Answers): EntrySource {
  const read = (entries: readonly LiveEntry[]) => {
    if (answers.down) return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432'));
    return Promise.resolve(entries.map((live) => answers.current.get(live.entry.name) ?? false));
  };
  return {
    load: () => Promise.resolve([]),
    stillCurrent: read,
    stillCurrentMarked: async (entries) => ({ current: await read(entries), mark: answers.mark }),
    changeMark: () => (answers.down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5432')) : Promise.resolve(answers.mark)),
  };
}

test('an entry read ahead before an outage is read again at its first fire after it: the server that answers may not have the changes that read saw', async () => {
  const [a, b] = codeEntries(compileScheduleEntries([{ name: 'a', task: 't', schedule: '* * * * *' }, { name: 'b', task: 't', schedule: '* * * * *' }])) as [LiveEntry, LiveEntry];
  const answers: Answers = { current: new Map([['a', true], ['b', true]]), mark: '7', down: false };
  const stale: string[] = [];
  const { log, lines } = capturingLogger();
  const fence = new ChangeFence({ source: source(answers), stale: (name) => stale.push(name), log, readAheadFrom: 1 });

  fence.readAhead(a);
  await setImmediate();
  await setImmediate();
  // PostgreSQL fails over to a standby that had not received the last changes: b's fire finds it unreachable.
  answers.down = true;
  assert.equal(await fence.allows(b), true, 'unreachable: the fire goes out as loaded');
  // On the new primary `a` is paused (acknowledged), and as many statements were committed there as were lost: the
  // change mark has the value it had when `a` was read ahead, for other changes.
  answers.down = false;
  answers.current.set('a', false);
  assert.equal(await fence.allows(b), true, 'the probe finds the source again');
  for (let turn = 0; turn < 10 && !lines().some((l) => /checked against the runtime schedules again/.test(String(l.msg))); turn++) await setImmediate();
  assert.ok(lines().some((l) => /checked against the runtime schedules again/.test(String(l.msg))), 'the fence checks again');
  assert.equal(await fence.allows(b), true, 'b stands');
  assert.equal(await fence.allows(a), false, 'a, paused before its fire time, is not sent on the strength of a read made before the outage');
  assert.deepEqual(stale, ['a']);
});

test('without a change between, what was read ahead stands, and a change between sends the check to the entry itself', async () => {
  const [a] = codeEntries(compileScheduleEntries([{ name: 'a', task: 't', schedule: '* * * * *' }])) as [LiveEntry];
  const answers: Answers = { current: new Map([['a', true]]), mark: '7', down: false };
  let reads = 0;
  const counted = source(answers);
  const fence = new ChangeFence({
    source: { ...counted, stillCurrent: (entries) => ((reads += 1), (counted.stillCurrent as NonNullable<EntrySource['stillCurrent']>)(entries)) },
    stale: () => {}, log: capturingLogger('silent').log, readAheadFrom: 1,
  });
  fence.readAhead(a);
  assert.equal(await fence.allows(a), true);
  assert.equal(reads, 0, 'the mark unchanged: the entry is not read again');
  fence.readAhead(a);
  await setImmediate();
  answers.current.set('a', false);
  answers.mark = '8';
  assert.equal(await fence.allows(a), false, 'the mark moved: the entry is read again, and found changed');
  assert.equal(reads, 1);
});

test('fewer entries read ahead together than readAheadFrom are read at their fire time instead: one read, not two', async () => {
  const entries = codeEntries(compileScheduleEntries(['a', 'b', 'c'].map((name) => ({ name, task: 't', schedule: '* * * * *' }))));
  const answers: Answers = { current: new Map([['a', true], ['b', true], ['c', true]]), mark: '7', down: false };
  const calls: string[] = [];
  const counted = source(answers);
  const fence = new ChangeFence({
    source: {
      ...counted,
      stillCurrent: (live) => (calls.push(`entries ${live.length}`), (counted.stillCurrent as NonNullable<EntrySource['stillCurrent']>)(live)),
      stillCurrentMarked: (live) => (calls.push(`ahead ${live.length}`), (counted.stillCurrentMarked as NonNullable<EntrySource['stillCurrentMarked']>)(live)),
      changeMark: () => (calls.push('mark'), (counted.changeMark as NonNullable<EntrySource['changeMark']>)()),
    },
    stale: () => {}, log: capturingLogger('silent').log, readAheadFrom: 3,
  });
  for (const live of entries.slice(0, 2)) fence.readAhead(live);
  await setImmediate();
  assert.deepEqual(await Promise.all(entries.slice(0, 2).map((live) => fence.allows(live))), [true, true]);
  assert.deepEqual(calls, ['entries 2'], 'two together: read at the fire time only');
  calls.length = 0;
  for (const live of entries) fence.readAhead(live);
  await setImmediate();
  assert.deepEqual(await Promise.all(entries.map((live) => fence.allows(live))), [true, true, true]);
  assert.deepEqual(calls, ['ahead 3', 'mark'], 'three together: read ahead, and only the mark at the fire time');
});
