import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { requireServices, ServiceUnavailableError } from '@nightshift/test-servers';
import { dockerEngineReachable } from '../src/containers.ts';
import { probe, ProbeFailure } from '../src/probe.ts';

const ENV_VARS = ['NIGHTSHIFT_AMQP_URL', 'NIGHTSHIFT_REDIS_URL', 'NIGHTSHIFT_DATABASE_URL'] as const;
// With a Docker engine present, an unreachable URL would rightly start a container instead of failing.
const docker = await dockerEngineReachable();
const withoutDocker = { skip: docker ? 'a Docker engine is running here, so requireServices would start a container' : false };

/** Runs `body` with some NIGHTSHIFT_*_URL variables set, and puts the environment back after. */
async function withEnv(vars: Partial<Record<(typeof ENV_VARS)[number], string>>, body: () => Promise<void>): Promise<void> {
  const saved = new Map(ENV_VARS.map((name) => [name, process.env[name]]));
  Object.assign(process.env, vars);
  try {
    await body();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

test('reachable services pass, and their URLs are returned', async () => {
  const urls = await requireServices('rabbitmq', 'redis', 'postgres');
  assert.match(urls.amqpUrl, /^amqp:\/\//);
  assert.match(urls.redisUrl, /^redis:\/\//);
  assert.match(urls.databaseUrl, /^postgres:\/\//);
  // A second call is answered from memory.
  const started = performance.now();
  assert.deepEqual(await requireServices('rabbitmq', 'redis', 'postgres'), urls);
  assert.ok(performance.now() - started < 50);
});

test('unreachable RabbitMQ without Docker: exactly one line, naming it and how to start it', withoutDocker, async () => {
  await withEnv({ NIGHTSHIFT_AMQP_URL: 'amqp://guest:hunter2@127.0.0.1:1' }, async () => {
    await assert.rejects(requireServices('rabbitmq'), (error: unknown) => {
      assert.ok(error instanceof ServiceUnavailableError);
      assert.equal(
        error.message,
        "RabbitMQ is not reachable at amqp://127.0.0.1:1 (connection refused) and no Docker engine is running: start it with 'rabbitmq-server -detached' or set NIGHTSHIFT_AMQP_URL",
      );
      assert.equal(error.stack, error.message);
      assert.deepEqual(error.services, ['rabbitmq']);
      return true;
    });
  });
});

test('each missing service gets its own line; services that answer are not mentioned', withoutDocker, async () => {
  await withEnv({ NIGHTSHIFT_REDIS_URL: 'redis://:hunter2@127.0.0.1:1', NIGHTSHIFT_DATABASE_URL: 'postgres://postgres:hunter2@127.0.0.1:1/postgres' }, async () => {
    await assert.rejects(requireServices('rabbitmq', 'redis', 'postgres'), (error: unknown) => {
      assert.ok(error instanceof ServiceUnavailableError);
      assert.deepEqual(error.message.split('\n'), [
        "Redis is not reachable at redis://127.0.0.1:1 (connection refused) and no Docker engine is running: start it with 'redis-server --daemonize yes' or set NIGHTSHIFT_REDIS_URL",
        "PostgreSQL is not reachable at postgres://127.0.0.1:1/postgres (connection refused) and no Docker engine is running: start it with 'pg_ctlcluster $(ls /etc/postgresql) main start' or set NIGHTSHIFT_DATABASE_URL",
      ]);
      assert.deepEqual(error.services, ['redis', 'postgres']);
      return true;
    });
  });
});

test('node --test shows the line itself, not a stack, and never the password', withoutDocker, () => {
  const fixture = fileURLToPath(new URL('./fixtures/needs-rabbitmq.ts', import.meta.url));
  const run = spawnSync(process.execPath, ['--test', '--test-reporter=spec', fixture], {
    // Without NODE_TEST_CONTEXT, the inner runner does not take itself for a nested call and run nothing.
    env: { ...process.env, NODE_TEST_CONTEXT: undefined, NIGHTSHIFT_AMQP_URL: 'amqp://guest:hunter2@127.0.0.1:1' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const output = run.stdout + run.stderr;
  assert.equal(run.status, 1, output);
  assert.ok(output.includes("RabbitMQ is not reachable at amqp://127.0.0.1:1 (connection refused) and no Docker engine is running: start it with 'rabbitmq-server -detached' or set NIGHTSHIFT_AMQP_URL"), output);
  assert.doesNotMatch(output, /hunter2/);
  assert.doesNotMatch(output, /^\s+at /m, 'no stack frames');
});

test('unknown service names are refused', async () => {
  // @ts-expect-error -- a JavaScript caller can pass anything.
  await assert.rejects(requireServices('kafka'), /unknown service "kafka"/);
});

let silent: Server;
let silentPort = 0;
const silentSockets = new Set<Socket>();
before(async () => {
  // Accepts connections and never says a word, like a hung server.
  silent = createServer((socket) => {
    silentSockets.add(socket);
    socket.on('close', () => silentSockets.delete(socket));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const address = silent.address();
  assert.ok(address !== null && typeof address === 'object');
  silentPort = address.port;
});
after(() => {
  for (const socket of silentSockets) socket.destroy();
  silent.close();
});

for (const [name, url] of [
  ['rabbitmq', () => `amqp://guest:guest@127.0.0.1:${silentPort}`],
  ['redis', () => `redis://127.0.0.1:${silentPort}`],
  ['postgres', () => `postgres://postgres@127.0.0.1:${silentPort}/postgres`],
] as const) {
  test(`a ${name} that never answers fails after the timeout, not later`, async () => {
    const started = performance.now();
    await assert.rejects(probe(name, url(), 300), (error: unknown) => {
      assert.ok(error instanceof ProbeFailure);
      assert.match(error.message, /no answer within 0\.3 s|connection timed out|Connection timeout/i);
      return true;
    });
    assert.ok(performance.now() - started < 1_000);
  });
}
