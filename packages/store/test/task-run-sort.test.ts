import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TASK_RUN_SORT_NAMES, TaskRuns, type TaskEventInput, type TaskRun, type TaskRunSort } from '@nightshift/store';
import { testStore } from './support.ts';

// The tasks page's list: ordered by any column (keyset pages that cover every run once, empty values included),
// task names found by a part or a prefix of the name, and retries counted when they happened.

const base = Date.now() - 600_000;
const at = (ms: number) => new Date(base + ms).toISOString();
const NAMES = ['reports.generate', 'Reports.email', 'billing.charge', 'billing.refund', 'mail.send'];

function runs(): TaskEventInput[] {
  const batch: TaskEventInput[] = [];
  for (let i = 0; i < 30; i += 1) {
    const name = NAMES[i % NAMES.length] as string;
    const common = { runId: `r${String(i).padStart(2, '0')}`, name, attempt: 1 + (i % 3), sentAt: at(i * 1000), ...(i % 4 === 0 ? {} : { queue: `q${i % 3}`, worker: `w${i % 4}` }) };
    // Every seventh run is still waiting: no worker, no runtime, no start.
    if (i % 7 === 0) batch.push({ ...common, state: 'sent', at: at(i * 1000) });
    else batch.push({ ...common, state: i % 5 === 0 ? 'failed' : 'succeeded', at: at(i * 1000 + 500), runtimeMs: (i * 37) % 11 * 10, ...(i % 5 === 0 ? { error: { name: 'Boom', message: 'x' } } : {}) });
  }
  return batch;
}

const keyOf: Record<TaskRunSort, (r: TaskRun) => string | number> = {
  sent: (r) => Date.parse(r.sentAt), id: (r) => r.id, name: (r) => r.name, state: (r) => r.state, attempt: (r) => r.attempt, queue: (r) => r.queue ?? '',
  worker: (r) => r.worker ?? '', runtime: (r) => r.runtimeMs ?? -1, started: (r) => (r.startedAt ? Date.parse(r.startedAt) : -Infinity),
  finished: (r) => (r.finishedAt ? Date.parse(r.finishedAt) : -Infinity), error: (r) => r.errorClass ?? '',
};

test('every column sorts both ways, and its pages cover every run once in that order', async () => {
  const ctx = await testStore();
  try {
    const history = new TaskRuns(ctx.store);
    await history.record(runs());
    for (const sort of TASK_RUN_SORT_NAMES) {
      for (const order of ['asc', 'desc'] as const) {
        const seen: TaskRun[] = [];
        let after: string | undefined;
        do {
          const page = await history.list({ sort, order, limit: 4, ...(after ? { after } : {}) });
          seen.push(...page.items);
          after = page.next;
        } while (after);
        assert.equal(new Set(seen.map((r) => r.id)).size, 30, `${sort} ${order}: every run once`);
        const keys = seen.map(keyOf[sort]);
        for (let i = 1; i < keys.length; i += 1) {
          const [a, b] = [keys[i - 1] as string | number, keys[i] as string | number];
          // Text compares as PostgreSQL's collation does; only numbers are checked strictly here, text by the first letter's order of equal keys.
          if (typeof a === 'number' && typeof b === 'number') assert.ok(order === 'asc' ? a <= b : a >= b, `${sort} ${order}: ${a} then ${b}`);
        }
        if (sort === 'name') {
          const distinct = [...new Set(seen.map((r) => r.name.toLowerCase()))];
          assert.deepEqual(distinct, order === 'asc' ? [...distinct].sort() : [...distinct].sort().reverse(), `names ${order}`);
        }
      }
    }
    const first = await history.list({ sort: 'runtime', order: 'asc', limit: 4 });
    await assert.rejects(history.list({ sort: 'name', order: 'asc', ...(first.next ? { after: first.next } : {}) }), (error: Error & { parameter?: string }) => error.parameter === 'after', 'a cursor of another sort is refused, naming after');
    await assert.rejects(history.list({ sort: 'colour' as TaskRunSort }), (error: Error & { parameter?: string }) => error.parameter === 'sort');
  } finally {
    await ctx.cleanup();
  }
});

test('task names are found by a part or a prefix, whatever the case; LIKE\'s wildcards are plain text', async () => {
  const ctx = await testStore();
  try {
    const history = new TaskRuns(ctx.store);
    await history.record(runs());
    const names = async (query: Parameters<TaskRuns['list']>[0]) => [...new Set((await history.list({ ...query, limit: 500 })).items.map((r) => r.name))].sort();
    assert.deepEqual(await names({ nameContains: 'port' }), ['Reports.email', 'reports.generate']);
    assert.deepEqual(await names({ namePrefix: 'REPORTS.' }), ['Reports.email', 'reports.generate']);
    assert.deepEqual(await names({ namePrefix: 'bill' }), ['billing.charge', 'billing.refund']);
    assert.deepEqual(await names({ nameContains: 'send' }), ['mail.send']);
    assert.deepEqual(await names({ namePrefix: 'send' }), [], 'a prefix is a prefix');
    assert.deepEqual(await names({ nameContains: '%' }), [], '% matches only a %');
    assert.deepEqual(await names({ nameContains: '_' }), [], '_ matches only an _');
    assert.ok((await history.list({ namePrefix: 'billing', queue: 'q1' })).items.every((r) => r.queue === 'q1' && r.name.startsWith('billing')), 'with the queue filter');
  } finally {
    await ctx.cleanup();
  }
});

test('retries are counted when they happened, also for a run that then succeeded', async () => {
  const ctx = await testStore();
  try {
    const history = new TaskRuns(ctx.store);
    const now = Date.now();
    const t = (ago: number) => new Date(now - ago).toISOString();
    const run = { name: 'flaky', queue: 'default', maxAttempts: 5, sentAt: t(120_000) };
    await history.record([
      { ...run, runId: 'f1', state: 'failed', at: t(110_000), attempt: 1, error: { name: 'Error', message: 'timeout' } },
      { ...run, runId: 'f1', state: 'retried', at: t(110_000), attempt: 1 },
      { ...run, runId: 'f1', state: 'failed', at: t(100_000), attempt: 2, error: { name: 'Error', message: 'timeout' } },
      { ...run, runId: 'f1', state: 'retried', at: t(100_000), attempt: 2 },
      { ...run, runId: 'f1', state: 'succeeded', at: t(90_000), attempt: 3, runtimeMs: 5 },
      { ...run, runId: 'old', state: 'retried', at: t(7_200_000), attempt: 1, sentAt: t(7_300_000) },
    ]);
    assert.equal((await history.get('f1'))?.state, 'succeeded', 'the run itself says only succeeded');
    assert.equal(await history.retriesSince(new Date(now - 3_600_000)), 2, 'two retries in the last hour; the one two hours ago is not counted');
    const series = await history.series(new Date(now - 3_600_000), 60_000);
    assert.equal(series.reduce((sum, b) => sum + b.retried, 0), 2, 'the monitor\'s retried series has them');
    assert.equal(series.reduce((sum, b) => sum + b.succeeded, 0), 1);
  } finally {
    await ctx.cleanup();
  }
});
