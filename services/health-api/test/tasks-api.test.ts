import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, installation, type Installation } from './support.ts';

// The tasks page's API: retries counted when they happened (Overview and Monitor), retrying a run that ended
// badly (a new run, linked both ways), and the list's sort, name search, queue and time filters.

let site: Installation;

before(async () => {
  site = await installation();
  await site.worker({ queues: ['default'] });
});
after(async () => {
  await site?.close();
});

interface Run { id: string; name: string; state: string; queue: string | null; args: unknown[] | null; kwargs: Record<string, unknown> | null; sentAt: string; origin: Record<string, unknown> | null; retries?: { id: string; state: string; by: string | null }[] }
interface ApiError { error: { code: string; parameter?: string } }

const runOf = async (id: string) => (await site.request('GET', `/api/tasks/${encodeURIComponent(id)}`)).json as Run;
async function sendAndWait(task: string, args: unknown[], state: string): Promise<string> {
  const sent = await site.request('POST', '/api/tasks', { task, args });
  assert.equal(sent.status, 202, sent.body);
  const { id } = sent.json as { id: string };
  await eventually(`${task} to be ${state}`, async () => ((await runOf(id)).state === state ? true : undefined), 20_000);
  return id;
}

test('Overview\'s "Retried (1h)" and the Monitor\'s retried series count the retries that happened, not the runs waiting to retry now', async () => {
  // Three failed attempts, each retried, then a success: no run is waiting to retry afterwards.
  await sendAndWait('flaky', [3], 'succeeded');
  const overview = await eventually('the poller to count the retries', async () => {
    const body = (await site.request('GET', '/api/overview')).json as { lastHour: { retried: number; waitingToRetry: number } };
    // (the poll that sees the success: before it, the run may still count as waiting)
    return body.lastHour.retried === 3 && body.lastHour.waitingToRetry === 0 ? body : undefined;
  });
  assert.deepEqual([overview.lastHour.retried, overview.lastHour.waitingToRetry], [3, 0], 'three retries happened; none waits now');
  const monitor = (await site.request('GET', '/api/monitor?since=1h&bucket=1m')).json as { series: { retried: number }[] };
  assert.equal(monitor.series.reduce((sum, b) => sum + b.retried, 0), 3, 'the chart\'s retried series is not flat');
});

test('retry a dead-lettered run: a new run with the same args and a fresh id; each names the other; who asked is recorded', async () => {
  const id = await sendAndWait('broken', [{ order: 7 }], 'dead-lettered');
  const retried = await site.request('POST', `/api/tasks/${encodeURIComponent(id)}/retry`, {});
  assert.equal(retried.status, 202, retried.body);
  const answer = retried.json as { id: string; retryOf: string; by: string };
  assert.notEqual(answer.id, id);
  assert.deepEqual([answer.retryOf, answer.by], [id, 'alice']);
  const fresh = await eventually('the retry to be recorded and run', async () => {
    const run = await runOf(answer.id);
    return run.state === 'dead-lettered' ? run : undefined;
  }, 20_000);
  assert.deepEqual(fresh.args, [{ order: 7 }], 'the same arguments');
  assert.equal(fresh.name, 'broken');
  assert.deepEqual(fresh.origin, { type: 'retry', retryOf: id, by: 'alice' });
  const original = await runOf(id);
  assert.equal(original.state, 'dead-lettered', 'the original stays as it was');
  assert.deepEqual(original.retries?.map((r) => [r.id, r.by]), [[answer.id, 'alice']], 'the original links its retry');
  const audit = (await site.request('GET', '/api/control-actions')).json as { items: { action: string; actor: string; at: string; args: { id: string; newId: string } }[] };
  const entry = audit.items.find((a) => a.action === 'retry');
  assert.deepEqual([entry?.actor, entry?.args.id, entry?.args.newId], ['alice', id, answer.id], 'in the audit trail: who, and what');
  assert.ok(entry !== undefined && !Number.isNaN(Date.parse(entry.at)), 'and when');
});

test('a run that succeeded, or is unknown, is not retried', async () => {
  const id = await sendAndWait('echo', ['fine'], 'succeeded');
  const refused = await site.request('POST', `/api/tasks/${encodeURIComponent(id)}/retry`, {});
  assert.deepEqual([refused.status, (refused.json as ApiError).error.code], [409, 'E_NOT_RETRYABLE']);
  const missing = await site.request('POST', '/api/tasks/no-such-run/retry', {});
  assert.deepEqual([missing.status, (missing.json as ApiError).error.code], [404, 'E_NOT_FOUND']);
});

test('the list sorts by a column, finds names by a part or a prefix, and filters by queue and time', async () => {
  const list = async (query: string) => {
    const response = await site.request('GET', `/api/tasks?${query}`);
    assert.equal(response.status, 200, `${query}: ${response.body}`);
    return (response.json as { items: Run[]; next?: string });
  };
  const before = new Date().toISOString();
  await sendAndWait('echo', ['sort-me'], 'succeeded');
  await site.request('POST', '/api/tasks', { task: 'report', args: [] }); // waits in "reports": no worker consumes it
  await eventually('the report to be recorded', async () => ((await list('queue=reports')).items.length > 0 ? true : undefined));
  const names = (await list('sort=name&order=asc&limit=500')).items.map((r) => r.name);
  assert.deepEqual(names, [...names].sort(), 'by name, A to Z');
  assert.deepEqual([...new Set((await list('nameContains=LAK&limit=500')).items.map((r) => r.name))], ['flaky'], 'a part of the name, any case');
  assert.deepEqual([...new Set((await list('nameStartsWith=rep&limit=500')).items.map((r) => r.name))], ['report'], 'a prefix');
  assert.deepEqual((await list('nameStartsWith=port')).items, [], 'a prefix is a prefix');
  assert.deepEqual([...new Set((await list('queue=reports&limit=500')).items.map((r) => r.queue))], ['reports'], 'by queue');
  const recent = (await list(`since=${encodeURIComponent(before)}&limit=500`)).items;
  assert.ok(recent.length >= 2 && recent.every((r) => r.sentAt >= before), 'sent since');
  assert.deepEqual((await list(`until=${encodeURIComponent('2000-01-01T00:00:00Z')}`)).items, [], 'sent until');
  // Pages of a sorted list follow on; a cursor of another order is refused, naming the parameter.
  const first = await list('sort=runtime&order=desc&limit=2');
  assert.ok(first.next !== undefined);
  const second = await list(`sort=runtime&order=desc&limit=2&after=${first.next}`);
  assert.equal(second.items.filter((r) => first.items.some((f) => f.id === r.id)).length, 0, 'no run twice');
  for (const [query, parameter] of [[`sort=name&after=${first.next}`, 'after'], ['sort=colour', 'sort'], ['order=up', 'order'], ['nameContains=', 'nameContains']] as const) {
    const response = await site.request('GET', `/api/tasks?${query}`);
    if (query === 'nameContains=') { assert.equal(response.status, 200, 'an empty parameter is as if absent'); continue; }
    assert.deepEqual([response.status, (response.json as ApiError).error.parameter], [400, parameter], query);
  }
});

test('the page names every script for preloading, versioned; a versioned script is kept by the browser, an unversioned one revalidated', async () => {
  const page = await site.request('GET', '/');
  const preloads = [...page.body.matchAll(/<link rel="modulepreload" href="(\/assets\/[\w.-]+)\?v=([\w-]+)">/g)];
  assert.ok(preloads.some(([, path]) => path === '/assets/tasks.js') && preloads.some(([, path]) => path === '/assets/preact.mjs'), 'every script, the vendored ones too');
  const version = preloads[0]?.[2] ?? '';
  assert.match(page.body, new RegExp(`<script type="module" src="/assets/app\\.js\\?v=${version}">`));
  const kept = await site.request('GET', `/assets/app.js?v=${version}`);
  assert.equal(kept.headers['cache-control'], 'private, max-age=31536000, immutable');
  assert.match(kept.body, new RegExp(`from '/assets/views\\.js\\?v=${version}'`), 'its imports name the same version');
  const plain = await site.request('GET', '/assets/app.js');
  assert.equal(plain.headers['cache-control'], 'no-cache');
  const again = await site.request('GET', '/assets/app.js', undefined, { 'if-none-match': String(plain.headers.etag) });
  assert.deepEqual([again.status, again.body], [304, '']);
});
