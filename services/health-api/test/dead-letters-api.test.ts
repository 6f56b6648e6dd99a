import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { DeadLetters } from '@nightshift/store';
import { echoDeadLetter } from './fixtures/dead-letters.ts';
import { eventually, installation, type Installation } from './support.ts';

let site: Installation;
let deadLetters: DeadLetters;

before(async () => {
  site = await installation();
  deadLetters = new DeadLetters(site.api.room.store);
});
after(async () => {
  await site?.close();
});

interface ApiError { error: { code: string; parameter?: string } }
interface Review { action: string; by: string; note: string | null; detail: Record<string, unknown> }
interface Detail { id: string; args: unknown[]; kwargs: Record<string, unknown>; errorStack: string; attempts: number; status: string; replayId: string | null; messageId: string; reviews: Review[] }
interface Job { id: string; total: number; done: number; state: string; perSecond: number }

test('the detail has args, kwargs, stack, attempts and the audit trail; args edited before a requeue are what the replay runs with', async () => {
  const { id } = await deadLetters.record(echoDeadLetter([{ month: '2026-13' }], { region: 'eu' }));
  const before = (await site.request('GET', `/api/dead-letters/${id}`)).json as Detail;
  assert.deepEqual([before.args, before.kwargs, before.attempts, before.reviews], [[{ month: '2026-13' }], { region: 'eu' }, 3, []]);
  assert.match(before.errorStack, /at fetch \(report\.ts/);
  const badArgs = await site.request('POST', `/api/dead-letters/${id}/requeue`, { args: 'not a list' });
  assert.deepEqual([badArgs.status, (badArgs.json as ApiError).error.parameter], [400, 'args']);

  const requeued = await site.request('POST', `/api/dead-letters/${id}/requeue`, { args: [{ month: '2026-12' }], note: 'month 13 does not exist' });
  assert.equal(requeued.status, 200, requeued.body);
  const { replayId } = requeued.json as { replayId: string };
  const detail = (await site.request('GET', `/api/dead-letters/${id}`)).json as Detail;
  assert.equal(detail.replayId, replayId);
  assert.deepEqual(detail.reviews.map((r) => [r.action, r.by, r.note]), [['edited', 'alice', 'month 13 does not exist'], ['requeued', 'alice', 'month 13 does not exist']]);
  assert.deepEqual(detail.reviews[0]?.detail, { before: { args: [{ month: '2026-13' }], kwargs: { region: 'eu' } }, after: { args: [{ month: '2026-12' }], kwargs: { region: 'eu' } } });
  // The replay's run in the history has the edited args (its task.sent), and links back to the dead letter.
  const run = await eventually('the replay in the history', async () => {
    const response = await site.request('GET', `/api/tasks/${replayId}`);
    return response.status === 200 ? response.json as { args: unknown[]; origin: { deadLetterId: string } } : undefined;
  });
  assert.deepEqual(run.args, [{ month: '2026-12' }]);
  assert.equal(run.origin.deadLetterId, id);
  // From the task to its dead letter.
  const byTask = (await site.request('GET', `/api/dead-letters?taskId=${detail.messageId}`)).json as { items: { id: string }[] };
  assert.deepEqual(byTask.items.map((d) => d.id), [id]);
});

test('bulk by filter: the count first, then a paced requeue with its progress; bulk ignore takes at most the count confirmed', async () => {
  const since = new Date(Date.now() - 1000).toISOString();
  for (let i = 0; i < 5; i += 1) await deadLetters.record(echoDeadLetter([i]));
  await deadLetters.record(echoDeadLetter(['other'], {}, { error: { name: 'TypeError', message: 'x' } }));
  await deadLetters.record(echoDeadLetter(['old'], {}, { lastFailedAt: '2026-01-01T00:00:00.000Z' }));
  const query = `task=echo&errorClass=TimeoutError&since=${encodeURIComponent(since)}&status=pending`;
  assert.deepEqual((await site.request('GET', `/api/dead-letters/count?${query}`)).json, { count: 5 });
  assert.deepEqual((await site.request('GET', '/api/dead-letters/count?until=2026-02-01T00:00:00Z')).json, { count: 1 });
  const badRate = await site.request('POST', '/api/dead-letters/bulk/requeue', { task: 'echo', limit: 5, perSecond: 0 });
  assert.deepEqual([badRate.status, (badRate.json as ApiError).error.parameter], [400, 'perSecond']);
  const noLimit = await site.request('POST', '/api/dead-letters/bulk/requeue', { task: 'echo' });
  assert.deepEqual([noLimit.status, (noLimit.json as ApiError).error.parameter], [400, 'limit']);

  const started = await site.request('POST', '/api/dead-letters/bulk/requeue', { task: 'echo', errorClass: 'TimeoutError', since, limit: 4, perSecond: 5, note: 'upstream is back' });
  assert.equal(started.status, 202, started.body);
  const job = started.json as Job;
  assert.deepEqual([job.total, job.state, job.perSecond], [4, 'running', 5]);
  const seen = new Set<number>();
  const done = await eventually('the bulk requeue to finish', async () => {
    const now = (await site.request('GET', `/api/dead-letters/bulk/${job.id}`)).json as Job;
    seen.add(now.done);
    return now.state === 'finished' ? now : undefined;
  }, 20_000, 50);
  assert.equal(done.done, 4);
  assert.ok(seen.size >= 2, `progress was seen moving: ${[...seen].join(', ')}`);
  assert.deepEqual((await site.request('GET', `/api/dead-letters/count?${query}`)).json, { count: 1 }, 'one left: the count confirmed was 4');

  const ignored = await site.request('POST', '/api/dead-letters/bulk/ignore', { task: 'echo', limit: 2, note: 'known outage' });
  assert.deepEqual(ignored.json, { ignored: 2 });
  assert.deepEqual((await site.request('GET', '/api/dead-letters/count?task=echo&status=ignored')).json, { count: 2 });
  const missing = await site.request('GET', '/api/dead-letters/bulk/nope');
  assert.equal(missing.status, 404);
});
