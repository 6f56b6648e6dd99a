// What a leader holding 100,000 runtime entries keeps of each: the source hands back the entry it loaded before while
// its revision and state stand, so the list beat dispatches and every read after it share one object per entry
// (not a copy per read), and a definition is compiled again only when it changed. On the real PostgreSQL.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { defineApp, defineTask } from '@nightshift/core';
import type { LiveEntry } from '../src/entry-source.ts';
import { PostgresEntrySource } from '../src/postgres-entry-source.ts';
import { capturingLogger } from './support.ts';
import { runtimeStore } from './runtime-support.ts';

const report = defineTask({ name: 'reports.build', queue: 'reports', run: () => undefined });
const app = defineApp({ name: 'beat-entry-reuse', tasks: [report] });
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

test('a read returns the same object for an entry whose revision and state stand; a pause, a change or a removal makes a new one', async () => {
  const { records, cleanup } = await runtimeStore();
  cleanups.push(cleanup);
  for (const name of ['a', 'b', 'c']) await records.insert(name, { name, task: 'reports.build', schedule: '0 9 * * *', timezone: 'Europe/Paris' }, null, 'test');
  const source = new PostgresEntrySource(records, app, [], capturingLogger('silent').log);
  const byName = (list: readonly LiveEntry[]) => new Map(list.map((live) => [live.entry.name, live]));

  const first = byName(await source.load());
  const again = byName(await source.load());
  assert.deepEqual([...again.keys()], ['a', 'b', 'c']);
  for (const name of ['a', 'b', 'c']) assert.equal(again.get(name), first.get(name), `${name}: the same object`);

  await records.setPaused('a', true, null, 'test');
  const b = await records.getRuntime('b');
  await records.update('b', { name: 'b', task: 'reports.build', schedule: '0 10 * * *', timezone: 'Europe/Paris' }, null, 'test', b?.version ?? 0);
  await records.delete('c', undefined, 'test');
  const changed = byName(await source.load());
  assert.deepEqual([...changed.keys()], ['a', 'b']);
  assert.notEqual(changed.get('a'), first.get('a'));
  assert.equal(changed.get('a')?.paused, true);
  // Paused, not changed: its definition is not compiled again.
  assert.equal(changed.get('a')?.entry, first.get('a')?.entry);
  assert.notEqual(changed.get('b')?.entry, first.get('b')?.entry);
  const schedule = changed.get('b')?.entry.schedule;
  assert.equal(schedule?.type === 'cron' ? schedule.expression : undefined, '0 10 * * *');

  // Read by name (a notification), an unchanged entry is the object the full read returned.
  const some = await source.loadSome(['a', 'b', 'c']);
  assert.deepEqual(some.removed, ['c']);
  assert.equal(some.changed.find((live) => live.entry.name === 'a'), changed.get('a'));
  assert.equal(some.changed.find((live) => live.entry.name === 'b'), changed.get('b'));

  // A removed name that comes back is a new entry.
  await records.insert('c', { name: 'c', task: 'reports.build', schedule: '0 9 * * *', timezone: 'Europe/Paris' }, null, 'test');
  const back = byName(await source.load());
  assert.notEqual(back.get('c'), first.get('c'));
  assert.equal(back.get('a'), changed.get('a'));
});
