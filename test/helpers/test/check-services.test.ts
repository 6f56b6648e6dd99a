import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { dockerEngineReachable } from '@nightshift/test-servers';

const script = fileURLToPath(new URL('../src/check-services.ts', import.meta.url));
const docker = await dockerEngineReachable();

function checkServices(env: Record<string, string>) {
  return spawnSync(process.execPath, [script], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 30_000 });
}

test('exits 0 when every service answers', () => {
  const run = checkServices({});
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.match(run.stdout, /RabbitMQ .* Redis .* PostgreSQL .* answer/);
  assert.equal(run.stderr, '');
});

test('exits 1 with one line per missing service when no Docker engine can stand in', { skip: docker && 'a Docker engine is running here' }, () => {
  const run = checkServices({ NIGHTSHIFT_AMQP_URL: 'amqp://guest:hunter2@127.0.0.1:1', NIGHTSHIFT_DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/postgres' });
  assert.equal(run.status, 1);
  assert.equal(run.stdout, '');
  const lines = run.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 2, run.stderr);
  assert.match(lines[0] ?? '', /^RabbitMQ is not reachable at amqp:\/\/127\.0\.0\.1:1 .* start it with 'rabbitmq-server -detached' or set NIGHTSHIFT_AMQP_URL$/);
  assert.match(lines[1] ?? '', /^PostgreSQL is not reachable at postgres:\/\/127\.0\.0\.1:1\/postgres .* or set NIGHTSHIFT_DATABASE_URL$/);
  assert.doesNotMatch(run.stderr, /hunter2/);
});
