import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldEvents, TaskRuns, type TaskEventInput, type TaskRunNote, type TaskRunState } from '@nightshift/store';
import { testStore } from './support.ts';

const base = Date.parse('2030-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(base + ms).toISOString();
const event = (runId: string, state: TaskRunState | TaskRunNote, ms: number, extra: Partial<TaskEventInput> = {}): TaskEventInput => ({
  runId, state, at: at(ms), name: 'reports.generate', queue: 'reports', attempt: 1, maxAttempts: 3, worker: 'w1', sentAt: at(0), ...extra,
});

test('received → started → succeeded, then a late duplicate started changes nothing', async () => {
  const ctx = await testStore();
  try {
    const runs = new TaskRuns(ctx.store);
    await runs.record([event('a', 'received', 10)]);
    assert.equal((await runs.get('a'))?.state, 'received');
    await runs.record([event('a', 'started', 20)]);
    assert.equal((await runs.get('a'))?.state, 'started');
    await runs.record([event('a', 'succeeded', 50, { runtimeMs: 30, result: { rows: 3 } })]);
    const done = await runs.get('a');
    assert.equal(done?.state, 'succeeded');
    const late = await runs.record([event('a', 'started', 20), event('a', 'received', 10)]);
    assert.deepEqual(late, { runsChanged: 0, eventsAdded: 0 }, 'a duplicate writes nothing');
    const after = await runs.get('a');
    assert.deepEqual(after, done);
    assert.deepEqual(after?.timeline.map((e) => e.type), ['received', 'started', 'succeeded']);
    assert.deepEqual(after?.result, { rows: 3 });
    assert.equal(after?.runtimeMs, 30);
  } finally {
    await ctx.cleanup();
  }
});

test('a suppressed duplicate is a note on the timeline: the run stays where its attempts put it, in memory and in SQL', async () => {
  const ctx = await testStore();
  try {
    const runs = new TaskRuns(ctx.store);
    const attempts = [event('n', 'received', 10), event('n', 'started', 20), event('n', 'succeeded', 50, { runtimeMs: 30, result: 'ok' })];
    await runs.record(attempts);
    const done = await runs.get('n');
    // A copy of attempt 1 arrives at another worker, which acks it without running it.
    const copy = [event('n', 'received', 900, { worker: 'w2' }), event('n', 'duplicate-suppressed', 901, { worker: 'w2', detail: { reason: 'completed', outcome: 'succeeded', finishedBy: 'w1' } })];
    await runs.record(copy);
    const after = await runs.get('n');
    assert.deepEqual(after?.timeline.map((e) => [e.type, e.worker]), [['received', 'w1'], ['started', 'w1'], ['succeeded', 'w1'], ['received', 'w2'], ['duplicate-suppressed', 'w2']]);
    assert.deepEqual(after?.timeline.at(-1)?.detail, { reason: 'completed', outcome: 'succeeded', finishedBy: 'w1' });
    const { timeline: _before, ...runBefore } = done ?? { timeline: [] };
    const { timeline: _after, ...runAfter } = after ?? { timeline: [] };
    assert.deepEqual(runAfter, runBefore, 'state, worker, times and result unchanged');
    assert.deepEqual(foldEvents([...attempts, ...copy]).get('n'), foldEvents([...attempts, copy[0] as TaskEventInput]).get('n'), 'a note folds into nothing');
    // Alone in a batch, a note still makes its timeline entry, and no run of its own.
    await runs.record([event('lonely', 'duplicate-suppressed', 5)]);
    assert.equal(await runs.get('lonely'), undefined);
    const { rows } = await ctx.store.query<{ type: string }>(`SELECT type FROM ${ctx.store.table('task_events')} WHERE run_id = 'lonely'`);
    assert.deepEqual(rows.map((r) => r.type), ['duplicate-suppressed']);
  } finally {
    await ctx.cleanup();
  }
});

test('out of order in one batch and across batches: the run ends where the furthest event puts it', async () => {
  const ctx = await testStore();
  try {
    const runs = new TaskRuns(ctx.store);
    const failure = { name: 'TypeError', message: 'boom', stack: 'TypeError: boom\n    at run' };
    await runs.record([event('b', 'succeeded', 300, { attempt: 2, runtimeMs: 5 }), event('b', 'started', 100, { attempt: 1 })]);
    await runs.record([event('b', 'failed', 150, { attempt: 1, error: failure }), event('b', 'retried', 160, { attempt: 1 }), event('b', 'started', 250, { attempt: 2 })]);
    const run = await runs.get('b');
    assert.equal(run?.state, 'succeeded');
    assert.equal(run?.attempt, 2);
    assert.equal(run?.startedAt, at(250), 'the started time of the attempt that succeeded, filled in late');
    assert.equal(run?.errorClass, 'TypeError', 'the last error is kept');
    assert.equal(run?.timeline.length, 5);
  } finally {
    await ctx.cleanup();
  }
});

test('folding in memory and merging in SQL agree, whatever the order', async () => {
  const ctx = await testStore();
  try {
    const runs = new TaskRuns(ctx.store);
    const events = [
      event('c', 'received', 10), event('c', 'started', 20), event('c', 'failed', 30, { final: false, error: { name: 'E', message: 'x' } }),
      event('c', 'retried', 31), event('c', 'received', 40, { attempt: 2 }), event('c', 'started', 50, { attempt: 2 }),
      event('c', 'failed', 60, { attempt: 2, final: true, error: { name: 'F', message: 'y' } }), event('c', 'dead-lettered', 61, { attempt: 2 }),
    ];
    const expected = foldEvents(events).get('c');
    for (let i = events.length - 1; i >= 0; i -= 1) await runs.record([events[i] as TaskEventInput]);
    const stored = await runs.get('c');
    assert.equal(stored?.state, expected?.state);
    assert.equal(stored?.state, 'dead-lettered');
    assert.equal(stored?.attempt, 2);
    assert.equal(stored?.errorClass, 'F');
    assert.equal(stored?.receivedAt, expected?.receivedAt);
    assert.equal(stored?.startedAt, expected?.startedAt);
    assert.equal(stored?.finishedAt, expected?.finishedAt);
  } finally {
    await ctx.cleanup();
  }
});

test('keyset pages cover every run once, filtered by state, name and time', async () => {
  const ctx = await testStore();
  try {
    const runs = new TaskRuns(ctx.store);
    const batch: TaskEventInput[] = [];
    for (let i = 0; i < 25; i += 1) batch.push(event(`r${String(i).padStart(2, '0')}`, i % 5 === 0 ? 'failed' : 'succeeded', i, { sentAt: at(i % 10), name: i % 2 ? 'odd' : 'even' }));
    await runs.record(batch);
    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await runs.list({ limit: 7, ...(after ? { after } : {}) });
      seen.push(...page.items.map((r) => r.id));
      after = page.next;
    } while (after);
    assert.equal(seen.length, 25);
    assert.equal(new Set(seen).size, 25);
    assert.equal((await runs.list({ state: 'failed' })).items.length, 5);
    assert.equal((await runs.list({ name: 'odd', state: ['succeeded', 'failed'] })).items.length, 12);
    assert.equal((await runs.list({ since: new Date(base + 5), until: new Date(base + 7) })).items.length, 4);
    assert.deepEqual((await runs.list({ idPrefix: 'r1' })).items.map((r) => r.id).sort(), ['r10', 'r11', 'r12', 'r13', 'r14', 'r15', 'r16', 'r17', 'r18', 'r19']);
    await assert.rejects(runs.list({ after: 'nonsense' }), /not a cursor/);
    await assert.rejects(runs.list({ limit: 0 }), /limit/);
  } finally {
    await ctx.cleanup();
  }
});

test('prune deletes old runs and their timeline in small batches', async () => {
  const ctx = await testStore();
  try {
    const runs = new TaskRuns(ctx.store);
    await runs.record(Array.from({ length: 30 }, (_, i) => event(`old${i}`, 'succeeded', i)));
    await ctx.store.query(`UPDATE ${ctx.store.table('task_runs')} SET updated_at = now() - interval '8 days'`);
    await ctx.store.query(`UPDATE ${ctx.store.table('task_events')} SET recorded_at = now() - interval '8 days'`);
    await runs.record([event('fresh', 'succeeded', 100)]);
    assert.equal(await runs.prune(new Date(Date.now() - 7 * 86_400_000), 7), 30);
    assert.equal(await runs.count(), 1);
    assert.equal((await runs.get('fresh'))?.timeline.length, 1);
    const counts = await runs.stateCounts(new Date(Date.now() - 60_000));
    assert.deepEqual(counts, { succeeded: 1 });
  } finally {
    await ctx.cleanup();
  }
});
