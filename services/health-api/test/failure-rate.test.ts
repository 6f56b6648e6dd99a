import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadHealthApiConfig } from '../src/config.ts';
import { eventually, installation, type Installation } from './support.ts';

let site: Installation;

before(async () => {
  // The default thresholds, as a newcomer has them; only dead letters are left out of the judgement.
  site = await installation({ NIGHTSHIFT_HEALTH_DEAD_LETTERS: '0' });
  await site.worker();
});
after(async () => {
  await site?.close();
});

interface Background { status: string; reasons: string[]; failureRate: { windowMs: number; rate: number | null; succeeded: number; failed: number; minRuns: number } | null }

async function send(task: 'echo' | 'broken', count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) assert.equal((await site.request('POST', '/api/tasks', { task, args: task === 'echo' ? [i] : [] })).status, 202);
}

async function finished(runs: number): Promise<{ code: number; body: Background }> {
  return eventually(`${runs} finished runs in the health window`, async () => {
    const response = await site.api.server.inject({ method: 'GET', url: '/health/background' });
    const body = response.json() as Background;
    const rate = body.failureRate;
    return rate !== null && rate.succeeded + rate.failed === runs ? { code: response.statusCode, body } : undefined;
  });
}

test('the failure rate needs 20 finished runs in the window by default', () => {
  const env = { NIGHTSHIFT_AMQP_URL: site.env.NIGHTSHIFT_AMQP_URL ?? '' };
  assert.equal(loadHealthApiConfig(env).thresholds.minRuns, 20);
  assert.equal(loadHealthApiConfig({ ...env, NIGHTSHIFT_HEALTH_MIN_RUNS: '5' }).thresholds.minRuns, 5);
  assert.throws(() => loadHealthApiConfig({ ...env, NIGHTSHIFT_HEALTH_MIN_RUNS: '0' }), /NIGHTSHIFT_HEALTH_MIN_RUNS/);
});

test('5 deliberate failures among 10 runs are no reason to call background work degraded or critical; 15 of 20 make it critical, with the threshold', async () => {
  await send('broken', 5);
  await send('echo', 5);
  const few = await finished(10);
  assert.deepEqual(few.body.failureRate, { windowMs: 300_000, rate: 0.5, succeeded: 5, failed: 5, minRuns: 20 });
  assert.ok(!few.body.reasons.some((r) => /runs failed/.test(r)), JSON.stringify(few.body.reasons));
  // No beat runs here, so the fixture's schedule keeps it degraded; what matters is that it is not critical.
  assert.notEqual(few.body.status, 'critical', JSON.stringify(few.body.reasons));
  assert.equal(few.code, 200);

  await send('broken', 10);
  const enough = await finished(20);
  assert.equal(enough.code, 503);
  assert.equal(enough.body.status, 'critical');
  assert.ok(enough.body.reasons.includes('75% of 20 runs failed in the last 300s (critical at 50%)'), JSON.stringify(enough.body.reasons));
});
