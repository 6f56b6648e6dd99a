import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually, installation, type Installation } from './support.ts';

let site: Installation;

before(async () => {
  site = await installation({ NIGHTSHIFT_HEALTH_BACKLOG: '5', NIGHTSHIFT_HEALTH_DEAD_LETTERS: '0' });
});
after(async () => {
  await site?.close();
});

interface Health { status: string; reason?: string; reasons?: string[]; online?: number; workers?: { name: string }[] }

test('health probes are open; /health/live and /health/ready answer', async () => {
  const live = await site.api.server.inject({ method: 'GET', url: '/health/live' });
  assert.equal(live.statusCode, 200);
  const ready = await site.api.server.inject({ method: 'GET', url: '/health/ready' });
  assert.equal(ready.statusCode, 200);
  assert.deepEqual(ready.json(), { status: 'ok', broker: 'up', database: 'up' });
});

test('/health/workers is 503 critical with no worker, 200 with its name once one is up', async () => {
  const none = await site.api.server.inject({ method: 'GET', url: '/health/workers' });
  assert.equal(none.statusCode, 503);
  const body = none.json() as Health;
  assert.equal(body.status, 'critical');
  assert.match(body.reason ?? '', /no worker/);
  const background = await site.api.server.inject({ method: 'GET', url: '/health/background' });
  assert.equal(background.statusCode, 503, 'no worker is critical for background work too');

  const worker = await site.worker();
  const up = await eventually(async () => {
    const response = await site.api.server.inject({ method: 'GET', url: '/health/workers' });
    return response.statusCode === 200 ? response.json() as Health : undefined;
  }, 'a worker to be seen');
  assert.equal(up.status, 'healthy');
  assert.deepEqual(up.workers?.map((w) => w.name), [worker.worker.options.name]);
});

test('/health/background is degraded, with the reason, when a queue backlog passes the threshold', async () => {
  await eventually(async () => ((await site.api.server.inject({ method: 'GET', url: '/health/workers' })).statusCode === 200 ? true : undefined), 'a worker');
  for (let i = 0; i < 8; i += 1) assert.equal((await site.request('POST', '/api/tasks', { task: 'report' })).status, 202);
  const degraded = await eventually(async () => {
    const response = await site.api.server.inject({ method: 'GET', url: '/health/background' });
    const body = response.json() as Health;
    return body.status === 'degraded' ? { code: response.statusCode, body } : undefined;
  }, 'the backlog to be seen');
  assert.equal(degraded.code, 200, 'degraded still answers 200');
  assert.ok(degraded.body.reasons?.some((r) => /queue reports has 8 messages waiting \(threshold 5\)/.test(r)), JSON.stringify(degraded.body.reasons));
});

test('a probe is answered from memory: 500 probes cost no broadcast and take milliseconds', async () => {
  const started = performance.now();
  await Promise.all(Array.from({ length: 500 }, () => site.api.server.inject({ method: 'GET', url: '/health/background' })));
  const perProbeMs = (performance.now() - started) / 500;
  assert.ok(perProbeMs < 5, `a probe took ${perProbeMs.toFixed(2)}ms`);
});
