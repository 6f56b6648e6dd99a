import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@nightshift/core';
import { Broker, brokerOptions } from '@nightshift/broker';
import { migrate, quoteIdent, Store } from '@nightshift/store';
import { randomPrefix, removeRedisKeys, requireServices } from '@nightshift/test-helpers';
import { startWorker, type StartedWorker } from '@nightshift/worker';
import { metrics } from '@nightshift/telemetry';
import { main } from '../src/main.ts';
import { testIo } from './test-io.ts';

const app = fileURLToPath(new URL('./fixtures/send-app.ts', import.meta.url));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let env: Record<string, string>;
let store: Store;
let worker: StartedWorker;

before(async () => {
  const { amqpUrl, databaseUrl, redisUrl } = await requireServices('rabbitmq', 'postgres', 'redis');
  const prefix = randomPrefix('cli-control');
  env = { NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_DATABASE_URL: databaseUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix, USER: 'carol' };
  store = new Store({ url: databaseUrl, schema: prefix });
  await migrate(store);
  worker = await startWorker({ appPath: app, concurrency: 2, name: 'cli-worker', grace: '1s' }, env, quiet, metrics.getMeter('control-test'));
});
after(async () => {
  await worker.stop();
  const cleaner = await Broker.connect(brokerOptions(loadConfig(env), 'cleanup'));
  await cleaner.ensureQueue('reports');
  await cleaner.deleteTopology();
  await cleaner.close();
  await removeRedisKeys(env.NIGHTSHIFT_REDIS_URL as string, env.NIGHTSHIFT_PREFIX as string);
  await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(env.NIGHTSHIFT_DATABASE_SCHEMA as string)} CASCADE`);
  await store.close();
});

test('control asks first: "no" does nothing, nobody at a terminal is told to add --yes', async () => {
  const no = testIo({ env, answers: ['n'] });
  assert.equal(await main(['control', 'pool-grow', 'cli-worker'], no), 1);
  assert.match(no.stderr.text, /grow the pool of cli-worker by 1\? \[y\/N\]/);
  assert.equal(no.stdout.text, 'nothing done\n');
  const nobody = testIo({ env });
  assert.equal(await main(['control', 'shutdown', 'cli-worker'], nobody), 2);
  assert.match(nobody.stderr.text, /asks before it acts, and nobody is at a terminal to answer\nadd --yes/);
  assert.equal(worker.worker.options.name, 'cli-worker');
});

test('control pool-grow and rate-limit act, print what the worker did, and are recorded with who and when', async () => {
  const grow = testIo({ env, answers: ['y'] });
  assert.equal(await main(['control', 'pool-grow', 'cli-worker', '--n', '2'], grow), 0, grow.stderr.text);
  assert.match(grow.stdout.text, /^cli-worker {2}pool grown from 2 to 4 sandboxes\n {2}recorded: carol at \d{4}-/);
  const limit = testIo({ env });
  assert.equal(await main(['control', 'rate-limit', 'cli-worker', 'reports.generate', '30/m', '--yes', '--json'], limit), 0, limit.stderr.text);
  const [reply] = limit.stdout.records() as Array<{ outcome: string; replies: Array<{ detail: string }> }>;
  assert.deepEqual([reply?.outcome, reply?.replies[0]?.detail], ['ok', 'task "reports.generate": at most 30/m on this worker']);
  const bad = testIo({ env });
  assert.equal(await main(['control', 'rate-limit', 'cli-worker', 'reports.generate', 'lots', '--yes'], bad), 2);
  assert.match(bad.stderr.text, /^error: rate: "lots" is not a rate limit/);
  const history = testIo({ env });
  assert.equal(await main(['control', 'history', '--worker', 'cli-worker', '--json'], history), 0);
  const actions = history.stdout.records() as Array<{ actor: string; via: string; action: string; outcome: string }>;
  assert.deepEqual(actions.map((a) => `${a.actor}/${a.via}/${a.action}/${a.outcome}`), ['carol/cli/rate-limit/refused', 'carol/cli/rate-limit/ok', 'carol/cli/pool-grow/ok']);
});

test('control without an action or worker is a usage error with a suggestion; --help shows every action', async () => {
  const typo = testIo({ env });
  assert.equal(await main(['control', 'pool-grwo', 'cli-worker'], typo), 2);
  assert.match(typo.stderr.text, /did you mean "nightshift control pool-grow"\?/);
  const noWorker = testIo({ env });
  assert.equal(await main(['control', 'shutdown'], noWorker), 2);
  assert.match(noWorker.stderr.text, /needs the worker's name/);
  const help = testIo({ env });
  assert.equal(await main(['control', '--help'], help), 0);
  for (const action of ['shutdown', 'pool-restart', 'pool-grow', 'pool-shrink', 'autoscale', 'add-consumer', 'cancel-consumer', 'rate-limit', 'history']) assert.match(help.stdout.text, new RegExp(`\\b${action}\\b`));
});
