import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FireClock } from '../src/fire-clock.ts';

test('the clock wakes each wake-up once, in due-time order, none before its time; a cancelled one never', async () => {
  const clock = new FireClock();
  const start = Date.now();
  const woke: { name: string; at: number }[] = [];
  const wake = (name: string) => () => woke.push({ name, at: Date.now() });
  // Shuffled, with ties: ties wake in the order they were added.
  const plan = [['c', 60], ['a', 20], ['b', 40], ['b2', 40], ['x', 30], ['d', 0]] as const;
  const handles = new Map(plan.map(([name, delay]) => [name, clock.at(start + delay, wake(name))]));
  clock.cancel(handles.get('x'));
  await sleep(150);
  assert.deepEqual(woke.map((w) => w.name), ['d', 'a', 'b', 'b2', 'c']);
  for (const { name, at } of woke) {
    const due = start + (plan.find(([n]) => n === name)?.[1] ?? 0);
    assert.ok(at >= due, `${name} woke ${due - at} ms early`);
  }
  clock.close();
});

test('many due at once wake in chunks, with a turn of the event loop between (timers run there)', async () => {
  const clock = new FireClock();
  const at = Date.now() + 30;
  const turns: number[] = [];
  let turn = 0;
  const ticker = setInterval(() => turn++, 0);
  for (let i = 0; i < 2_000; i++) clock.at(at, () => turns.push(turn));
  await sleep(200);
  clearInterval(ticker);
  assert.equal(turns.length, 2_000, 'every wake-up woke');
  assert.ok(new Set(turns).size >= 2, `woken in ${new Set(turns).size} turns`);
  clock.close();
});

test('100,000 wake-ups, nine in ten cancelled: the heap is compacted and the survivors wake', async () => {
  const clock = new FireClock();
  const base = Date.now() + 50;
  let woke = 0;
  const handles = Array.from({ length: 100_000 }, (_, i) => clock.at(base + (i % 100), () => woke++));
  for (let i = 0; i < handles.length; i++) if (i % 10 !== 0) clock.cancel(handles[i]);
  assert.ok(clock.size <= 60_000, `heap compacted (${clock.size})`);
  await sleep(400);
  assert.equal(woke, 10_000);
  clock.close();
});

test('a clock that prepares ahead calls each wake-up "ahead" about that long before its time, then "due"', async () => {
  const clock = new FireClock(Date.now, 100);
  const start = Date.now();
  const calls: { name: string; phase: string; early: number }[] = [];
  const wake = (name: string, atMs: number) => (_arg: undefined, phase: 'ahead' | 'due') => calls.push({ name, phase, early: atMs - Date.now() });
  // Two due at different times, one cancelled.
  clock.at(start + 150, wake('a', start + 150));
  clock.at(start + 300, wake('b', start + 300));
  const cancelled = clock.at(start + 200, wake('x', start + 200));
  clock.cancel(cancelled);
  await sleep(400);
  const of = (name: string) => calls.filter((call) => call.name === name);
  assert.deepEqual(of('a').map((call) => call.phase), ['ahead', 'due']);
  assert.deepEqual(of('b').map((call) => call.phase), ['ahead', 'due']);
  assert.deepEqual(of('x'), []);
  for (const call of calls.filter((c) => c.phase === 'ahead')) assert.ok(call.early <= 100, `${call.name} called ahead ${call.early} ms before its time`);
  for (const call of calls.filter((c) => c.phase === 'due')) assert.ok(call.early <= 0, `${call.name} due ${call.early} ms early`);
  clock.close();
});

test('a clock that does not prepare ahead only ever calls "due"', async () => {
  const clock = new FireClock();
  const phases: string[] = [];
  clock.at(Date.now() + 20, (_arg, phase) => phases.push(phase));
  await sleep(80);
  assert.deepEqual(phases, ['due']);
  clock.close();
});
