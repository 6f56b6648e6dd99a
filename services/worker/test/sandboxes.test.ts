// The thread sandboxes' own guarantees, now that each holds the next tasks ready behind the running one
// and a warm spare stands in for a killed one.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { brief, echo, occupy, spin } from './fixtures/app.ts';
import { harness, type Harness } from './support.ts';

let h: Harness;
before(async () => { h = await harness(); });
after(async () => { await h.close(); });

test('a sandbox runs one task at a time: on each thread every task ends before the next starts, and never more than the concurrency run at once', async () => {
  const worker = await h.worker({ concurrency: 2 });
  const marker = h.marker('one-at-a-time');
  const ids = await Promise.all(Array.from({ length: 8 }, (_, i) => h.client.send(occupy, [120, marker, `t${i}`])));
  for (const id of ids) await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
  await worker.stop();
  const lines = readFileSync(marker, 'utf8').trim().split('\n').map((line) => line.split(' ') as [string, string, string]);
  assert.equal(lines.length, 16);
  const runningOn = new Map<string, string>();
  let running = 0;
  for (const [thread, edge, label] of lines) {
    if (edge === 'start') {
      assert.equal(runningOn.get(thread), undefined, `thread ${thread} started ${label} while running ${runningOn.get(thread)}`);
      runningOn.set(thread, label);
      running += 1;
      assert.ok(running <= 2, `${running} tasks ran at once at concurrency 2`);
    } else {
      assert.equal(runningOn.get(thread), label);
      runningOn.delete(thread);
      running -= 1;
    }
  }
  assert.ok(new Set(lines.map(([thread]) => thread)).size >= 2, 'both sandboxes ran tasks');
});

test('limits count from the start in the sandbox: a task that waited behind a longer one, longer than its hard limit, is neither aborted nor killed', async () => {
  const worker = await h.worker({ concurrency: 1 });
  const marker = h.marker('waited');
  const first = await h.client.send(occupy, [900, marker, 'first']);
  const waiting = await h.client.send(brief, []);
  const done = await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === waiting);
  assert.deepEqual(done.result, { aborted: false });
  const firstDone = h.events.find((e) => e.type === 'task.succeeded' && e.id === first);
  const started = h.events.find((e) => e.type === 'task.started' && e.id === waiting);
  assert.ok(firstDone && started, 'both ran');
  assert.ok(Date.parse(started.at) >= Date.parse(firstDone.at) - 50, 'it started when the first had ended, not while it waited');
  assert.ok(!h.events.some((e) => e.id === waiting && (e.type === 'task.failed' || e.type === 'task.retried')));
  await worker.stop();
});

test('a killed sandbox loses nothing: the task waiting behind one killed at its hard limit runs on another sandbox, once', async () => {
  const worker = await h.worker({ concurrency: 1 });
  const spinId = await h.client.send(spin, []);
  const behind = await h.client.send(echo, ['behind the spinner']);
  const done = await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === behind);
  assert.equal(done.result, 'behind the spinner');
  const spinFailed = await h.waitForEvent((e) => e.type === 'task.failed' && e.id === spinId);
  assert.equal((spinFailed.error as { name: string }).name, 'TimeLimitExceeded');
  assert.equal(h.events.filter((e) => e.type === 'task.started' && e.id === behind).length, 1);
  await worker.stop();
});

test('tasks do not wait behind a long one: those ready behind it beyond the next go to another sandbox', async () => {
  const worker = await h.worker({ concurrency: 2 });
  const marker = h.marker('behind-long');
  // Quick tasks first: each sandbox then keeps several ready behind the one it runs.
  const warm = await Promise.all(Array.from({ length: 8 }, (_, i) => h.client.send(occupy, [0, marker, `w${i}`])));
  for (const id of warm) await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
  // Then a long one with quick ones right behind it, as deliveries come: some are placed behind it at once.
  const sent = await Promise.all([h.client.send(occupy, [1_500, marker, 'long']), ...Array.from({ length: 7 }, (_, i) => h.client.send(occupy, [0, marker, `a${i}`]))]);
  const long = sent[0] as string;
  const quick = sent.slice(1);
  for (let burst = 0; burst < 3; burst++) {
    quick.push(...await Promise.all(Array.from({ length: 6 }, (_, i) => h.client.send(occupy, [0, marker, `q${burst}-${i}`]))));
  }
  const longDone = await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === long);
  for (const id of quick) await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
  await worker.stop();
  const after = h.events.filter((e) => e.type === 'task.succeeded' && quick.includes(String(e.id)) && Date.parse(e.at) >= Date.parse(longDone.at));
  assert.ok(after.length <= 1, `${after.length} of ${quick.length} short tasks waited for the long one to end (one may: the one ready behind it)`);
});
