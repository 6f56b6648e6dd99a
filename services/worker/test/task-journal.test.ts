import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { LifecycleEvent } from '@nightshift/broker';
import { chatty, progressing } from './fixtures/app.ts';
import { harness, type Harness } from './support.ts';

// What a task writes through ctx.log and reports through ctx.progress, as the worker sends it on: in both
// pools, since the thread sandboxes send it across a thread and the inline pool does not.
for (const pool of ['threads', 'inline'] as const) describe(`${pool} pool`, () => {
  let h: Harness;
  before(async () => {
    h = await harness();
    await h.worker({ pool });
  });
  after(() => h.close());

  test(`each attempt's log lines travel just before its outcome, redacted, without what the log level leaves out`, async () => {
    const id = await h.client.send(chatty, [3, true]);
    await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
    const mine = h.events.filter((e) => e.id === id && e.type !== 'task.sent' && e.type !== 'task.received' && e.type !== 'task.started');
    assert.deepEqual(mine.map((e) => [e.type, e.attempt]), [['task.logged', 1], ['task.failed', 1], ['task.retried', 1], ['task.logged', 2], ['task.succeeded', 2]]);
    const logged = mine.filter((e) => e.type === 'task.logged') as (LifecycleEvent & { lines: { level: string; msg: string; fields?: Record<string, unknown> }[]; dropped: number })[];
    for (const [index, event] of logged.entries()) {
      assert.deepEqual(event.lines.map((l) => [l.level, l.msg]), [['info', `attempt ${index + 1} connecting`], ['warn', 'row 1 skipped'], ['warn', 'row 2 skipped']]);
      assert.equal(event.dropped, 0);
      assert.deepEqual(event.lines[0]?.fields, { url: 'amqp://app:***@db.internal:5672', apiKey: '***' });
    }
    assert.doesNotMatch(JSON.stringify(h.events), /hunter2|sk-live-123/);
  });

  test(`a task that logs in a loop keeps its first 100 lines and says how many more it wrote`, async () => {
    const id = await h.client.send(chatty, [1_000, false]);
    const event = await h.waitForEvent((e) => e.type === 'task.logged' && e.id === id) as LifecycleEvent & { lines: unknown[]; dropped: number };
    assert.equal(event.lines.length, 100);
    assert.equal(event.dropped, 900);
  });

  test(`progress reports arrive while the task runs, a few a second at most, the last one included`, async () => {
    const id = await h.client.send(progressing, [20, 50]);
    await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
    const reports = h.events.filter((e) => e.id === id && e.type === 'task.progress') as (LifecycleEvent & { fraction: number; message: string })[];
    const started = h.events.find((e) => e.id === id && e.type === 'task.started');
    assert.ok(reports.length >= 2, `at least the first and one later report: ${JSON.stringify(reports)}`);
    // 20 reports over about a second, at most one per 250 ms leaves the sandbox (timers may run late, never early).
    assert.ok(reports.length < 20, `reports were thinned out: ${reports.length}`);
    assert.deepEqual(reports[0] && [reports[0].fraction, reports[0].message], [0.05, 'step 1 of 20']);
    for (let i = 1; i < reports.length; i++) assert.ok((reports[i]?.fraction ?? 0) > (reports[i - 1]?.fraction ?? 1), 'newer reports only');
    assert.ok(started, `a task.started event for it, before its outcome: none among ${JSON.stringify(h.events.filter((e) => e.id === id).map((e) => [e.type, e.at]))}`);
    assert.ok(Date.parse(reports[0]?.at ?? '') >= Date.parse(started.at), `reported while it ran: the first report at ${String(reports[0]?.at)}, started at ${started.at}`);
    // Stamped to the millisecond, the two above are often equal: the order they arrived in says more. Both go out in
    // the same flush, whose groups are published in the order of their first event.
    assert.ok(h.events.indexOf(started) < h.events.indexOf(reports[0] as LifecycleEvent), `started before its first report: ${JSON.stringify(h.events.filter((e) => e.id === id).map((e) => e.type))}`);
  });

  test(`a fraction outside 0..1 fails the attempt with an error that says what ctx.progress takes`, async () => {
    const id = await h.client.send(progressing, [1, 1, 1.5]);
    const failed = await h.waitForEvent((e) => e.type === 'task.failed' && e.id === id) as LifecycleEvent & { error: { name: string; message: string } };
    assert.equal(failed.error.name, 'RangeError');
    assert.match(failed.error.message, /ctx\.progress: the fraction must be a number from 0 to 1 .* not 1\.5/);
  });
});
