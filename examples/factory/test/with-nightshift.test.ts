// The factory's tasks and schedule tested the way a Nightshift user tests theirs: with @nightshift/testing,
// a real worker (thread sandboxes) on the real broker, Redis and PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createTestbed, randomPrefix, ScheduleClock, type Testbed } from '@nightshift/testing';
import app, { closeFactoryResources } from '../app.ts';

// The sandboxes load the app themselves and read these from the environment.
process.env.FACTORY_SCHEMA = randomPrefix('factory').replaceAll('-', '_');
process.env.FACTORY_REDIS_PREFIX = randomPrefix('factory');

let bed: Testbed;
before(async () => {
  bed = await createTestbed({ app: fileURLToPath(new URL('../app.ts', import.meta.url)), services: ['redis', 'postgres'] });
  await bed.startWorker({ concurrency: 2 });
});
after(async () => {
  await bed.close();
  const client = new pg.Client({ connectionString: bed.config.databaseUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${process.env.FACTORY_SCHEMA}" CASCADE`);
  await client.end();
  await closeFactoryResources();
});

test('apis.checkHealth reports each endpoint of the demo API, each within its timeout', async () => {
  const outcome = await bed.run('apis.checkHealth', [{ timeout: '500ms' }]);
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
  const result = (outcome as { result: { endpoints: Array<{ name: string; status: string }> } }).result;
  const statuses = Object.fromEntries(result.endpoints.map((e) => [e.name, e.status]));
  assert.deepEqual(statuses, { healthy: 'up', slow: 'timeout', broken: 'down' });
});

test('an unknown report type is dead-lettered at once as a PermanentError', async () => {
  const outcome = await bed.run('reports.generateDaily', ['weather']);
  assert.equal(outcome.status, 'dead-lettered');
  assert.ok(outcome.status === 'dead-lettered');
  assert.equal(outcome.error?.name, 'PermanentError');
  assert.equal(outcome.attempts, 1);
});

test('tasks.archiveCompleted runs to completion in a sandbox', async () => {
  const outcome = await bed.run('tasks.archiveCompleted', [30]);
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
  assert.equal((outcome as { result: { archived: number } }).result.archived, 0);
});

test('the schedule: an hour of beat sends 60 health checks and 4 token clean-ups; a night down sends the reports once each', () => {
  const clock = new ScheduleClock(app, '2026-11-24T10:00:30Z');
  const hour = clock.advance('1h');
  const count = (runs: typeof hour, entry: string) => runs.filter((r) => r.entry === entry).length;
  assert.equal(count(hour, 'api-health'), 60);
  assert.equal(count(hour, 'tokens-cleanup'), 4);
  clock.advance('13h');
  const afterOutage = clock.downtime('2h'); // down from 00:00:30 to 02:00:30 UTC
  assert.equal(count(afterOutage, 'daily-usage-report'), 1);
  assert.equal(count(afterOutage, 'daily-users-report'), 1);
  assert.equal(count(afterOutage, 'api-health'), 0, 'missed health checks are skipped');
});
