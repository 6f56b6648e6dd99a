import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Broker, brokerOptions } from '@nightshift/broker';
import { loadHealthApiConfig } from '@nightshift/health-api';
import { eventually, installation, type Installation } from './support.ts';

let site: Installation;
let prefix: string;

// A ladder whose long step holds a task sent with a 2h countdown for the whole test.
before(async () => {
  site = await installation({ NIGHTSHIFT_RETRY_LADDER: '1s,1h' });
  prefix = site.env.NIGHTSHIFT_PREFIX as string;
  await site.worker();
});
after(async () => {
  await site?.close();
});

interface QueueItem { name: string; kind: string; brokerName: string; depth: number | null; consumers: number | null }
interface Waiting { id: string; task: string; args: unknown[]; dueAt: string | null; reason: string | null }
interface QueuePage { queue: QueueItem; waiting: { source: string; items: Waiting[] }; actions: { action: string; by: string; detail: Record<string, unknown> }[] }
interface ApiError { error: { code: string; parameter?: string } }

const depthOf = async (brokerName: string) => {
  const broker = await Broker.connect(brokerOptions(loadHealthApiConfig(site.env).core, 'test'));
  try {
    return (await broker.withChannel((channel) => channel.checkQueue(brokerName))).messageCount;
  } finally {
    await broker.close();
  }
};

test('the Queues list has every queue of the prefix: work queues, each retry-ladder step and the dead-letters queue', async () => {
  const { items } = await eventually('the ladder polled', async () => {
    const body = (await site.request('GET', '/api/queues')).json as { items: QueueItem[] };
    return body.items.some((q) => q.kind === 'retry') ? body : undefined;
  });
  const byKind = (kind: string) => items.filter((q) => q.kind === kind).map((q) => q.brokerName);
  assert.ok(byKind('work').includes(`${prefix}.q.default`), JSON.stringify(items));
  assert.deepEqual(byKind('retry'), [`${prefix}.retry.1s`, `${prefix}.retry.1h`]);
  assert.deepEqual(byKind('dead-letters'), [`${prefix}.dead-letters`]);
  assert.ok(items.every((q) => 'depth' in q && 'consumers' in q && 'publishRate' in q));
});

test('a delayed task is listed in its ladder step with its due time, peeking loses nothing, and promote runs it now (audited)', async () => {
  const sent = await site.request('POST', '/api/tasks', { task: 'echo', args: ['later'], countdown: '2h' });
  const { id } = sent.json as { id: string };
  const step = `${prefix}.retry.1h`;
  const page = await eventually('the task in the 1h step', async () => {
    const body = (await site.request('GET', `/api/queues/${step}`)).json as QueuePage;
    return body.waiting.items.some((w) => w.id === id) ? body : undefined;
  });
  assert.equal(page.queue.kind, 'retry');
  assert.equal(page.waiting.source, 'broker');
  const waiting = page.waiting.items.find((w) => w.id === id);
  assert.deepEqual(waiting?.args, ['later']);
  assert.ok(Date.parse(waiting?.dueAt ?? '') > Date.now() + 3_600_000, `due ${waiting?.dueAt}`);
  // Peeked again and again, it stays: a return from a peek does not take it.
  for (let i = 0; i < 6; i += 1) await site.request('GET', `/api/queues/${step}`);
  assert.equal(await depthOf(step), 1);

  const promoted = await site.request('POST', `/api/queues/${step}/promote`, { id });
  assert.equal(promoted.status, 200, promoted.body);
  assert.deepEqual(promoted.json, { id, task: 'echo', queue: 'default' });
  await eventually('the promoted task to succeed', async () => {
    const run = (await site.request('GET', `/api/tasks/${id}`)).json as { state: string };
    return run.state === 'succeeded' ? true : undefined;
  });
  assert.equal(await depthOf(step), 0);
  const audited = (await site.request('GET', `/api/queues/${step}`)).json as QueuePage;
  assert.deepEqual(audited.actions.map((a) => [a.action, a.by, a.detail.taskId]), [['promoted', 'alice', id]]);

  const again = await site.request('POST', `/api/queues/${step}/promote`, { id });
  assert.deepEqual([again.status, (again.json as ApiError).error.code], [404, 'E_NOT_FOUND']);
  const notLadder = await site.request('POST', '/api/queues/default/promote', { id });
  assert.equal(notLadder.status, 404);
  const noId = await site.request('POST', `/api/queues/${step}/promote`, {});
  assert.deepEqual([noId.status, (noId.json as ApiError).error.parameter], [400, 'id']);
});

test('purge empties a work queue, answers how many went, and is audited; a work queue lists its waiting tasks from the history', async () => {
  for (let i = 0; i < 3; i += 1) await site.request('POST', '/api/tasks', { task: 'report', args: [] });
  const page = await eventually('three reports waiting', async () => {
    const body = (await site.request('GET', '/api/queues/reports')).json as QueuePage;
    return body.waiting.items.length === 3 && (await depthOf(`${prefix}.q.reports`)) === 3 ? body : undefined;
  });
  assert.equal(page.waiting.source, 'history');
  assert.deepEqual(page.waiting.items.map((w) => w.task), ['report', 'report', 'report']);
  const purged = await site.request('POST', '/api/queues/reports/purge', {});
  assert.deepEqual(purged.json, { queue: `${prefix}.q.reports`, purged: 3 });
  assert.equal(await depthOf(`${prefix}.q.reports`), 0);
  const audited = (await site.request('GET', '/api/queues/reports')).json as QueuePage;
  assert.deepEqual(audited.actions.map((a) => [a.action, a.by, a.detail.messages]), [['purged', 'alice', 3]]);
  const unknown = await site.request('POST', '/api/queues/nope/purge', {});
  assert.deepEqual([unknown.status, (unknown.json as ApiError).error.code], [404, 'E_NOT_FOUND']);
});

test('the dead-letters queue shows what waits for the alerter, with its reason', async () => {
  const sent = await site.request('POST', '/api/tasks', { task: 'broken', args: [] });
  const { id } = sent.json as { id: string };
  const page = await eventually('the dead letter in the queue', async () => {
    const body = (await site.request('GET', `/api/queues/${prefix}.dead-letters`)).json as QueuePage;
    return body.waiting.items.some((w) => w.id === id) ? body : undefined;
  });
  assert.equal(page.queue.kind, 'dead-letters');
  assert.equal(page.waiting.items.find((w) => w.id === id)?.reason, 'failed');
});
