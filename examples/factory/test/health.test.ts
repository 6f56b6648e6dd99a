import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PermanentError, SoftTimeLimitExceeded } from '@nightshift/core';
import { startDemoApi } from '../src/demo-api.ts';
import { checkHealthTask, type EndpointHealth } from '../src/health.ts';
import { isolatedPerTest } from './isolation.ts';
import { taskContext } from './task-context.ts';

const settings = isolatedPerTest();

function byName(endpoints: readonly EndpointHealth[]): Record<string, EndpointHealth> {
  return Object.fromEntries(endpoints.map((endpoint) => [endpoint.name, endpoint]));
}

test('reports a healthy, a broken and a timed-out endpoint of the demo API, each within its own timeout', async () => {
  const task = checkHealthTask(settings());
  const { ctx, logs } = taskContext(task.name);
  const started = performance.now();
  const report = await task.run(ctx, { timeout: '300ms' });
  const took = performance.now() - started;

  assert.deepEqual({ up: report.up, down: report.down, timedOut: report.timedOut }, { up: 1, down: 1, timedOut: 1 });
  const { healthy, broken, slow } = byName(report.endpoints);
  assert.equal(healthy?.status, 'up');
  assert.equal(healthy?.httpStatus, 200);
  assert.match(healthy?.url ?? '', /^http:\/\/127\.0\.0\.1:\d+\/healthy$/);
  assert.equal(broken?.status, 'down');
  assert.equal(broken?.httpStatus, 500);
  assert.equal(broken?.error, 'HTTP 500');
  assert.equal(slow?.status, 'timeout');
  assert.equal(slow?.httpStatus, undefined);
  assert.ok((slow?.latencyMs ?? 0) >= 290, `the slow check waited for its timeout (${slow?.latencyMs}ms)`);
  assert.ok(took < 2_000, `checks ran at once and the slow one was cut at 300ms, not after 5s (took ${Math.round(took)}ms)`);
  assert.deepEqual(logs.filter((entry) => entry.level === 'warn').map((entry) => entry.msg).sort(), ['endpoint broken is down', 'endpoint slow is timeout']);
});

test('an endpoint that refuses connections is down, with the reason', async () => {
  const api = await startDemoApi();
  const refused = api.url;
  await api.close();
  const task = checkHealthTask(settings({ healthEndpoints: [{ name: 'gone', url: `${refused}/healthy` }] }));
  const report = await task.run(taskContext(task.name).ctx, { timeout: 1_000 });
  assert.equal(report.down, 1);
  assert.equal(report.endpoints[0]?.status, 'down');
  assert.match(report.endpoints[0]?.error ?? '', /ECONNREFUSED/);
});

test('FACTORY_API_URL-style settings point the checks at another server', async () => {
  const other = await startDemoApi({ slowMs: 50 });
  try {
    const task = checkHealthTask(settings({ apiUrl: other.url }));
    const report = await task.run(taskContext(task.name).ctx, { timeout: '2s' });
    assert.ok(report.endpoints.every((endpoint) => endpoint.url.startsWith(`${other.url}/`)));
    assert.equal(byName(report.endpoints).slow?.status, 'up', 'this server answers /slow within the timeout');
  } finally {
    await other.close();
  }
});

test('the soft time limit aborts the checks and the run fails with it instead of blaming the endpoints', async () => {
  const task = checkHealthTask(settings());
  const { ctx, controller } = taskContext(task.name);
  const limit = new SoftTimeLimitExceeded(100);
  setTimeout(() => controller.abort(limit), 100);
  await assert.rejects(async () => task.run(ctx, { timeout: '10s' }), (error: unknown) => error === limit);
});

test('a timeout that is not a duration is a PermanentError', async () => {
  const task = checkHealthTask(settings());
  await assert.rejects(async () => task.run(taskContext(task.name).ctx, { timeout: 'soon' }), PermanentError);
  await assert.rejects(async () => task.run(taskContext(task.name).ctx, { timeout: 0 }), PermanentError);
});
