import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@nightshift/core';
import { Broker, brokerOptions } from '@nightshift/broker';
import { migrate, quoteIdent, Store } from '@nightshift/store';
import { randomPrefix, requireServices } from '@nightshift/test-helpers';
import { startWorker, type StartedWorker } from '@nightshift/worker';
import { main } from '../src/main.ts';
import { testIo } from './test-io.ts';
import { metrics } from '@nightshift/telemetry';

const app = fileURLToPath(new URL('./fixtures/send-app.ts', import.meta.url));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
let env: Record<string, string>;
let worker: StartedWorker;

before(async () => {
  const { amqpUrl } = await requireServices('rabbitmq');
  env = { NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_PREFIX: randomPrefix('cli-inspect') };
  worker = await startWorker({ appPath: app, concurrency: 1, name: 'inspected-worker', grace: '1s' }, env, quiet, metrics.getMeter('inspect-test'));
});
after(async () => {
  await worker.stop();
  const cleaner = await Broker.connect(brokerOptions(loadConfig(env), 'cleanup'));
  await cleaner.ensureQueue('reports');
  await cleaner.deleteTopology();
  await cleaner.close();
});

test('inspect ping names the workers that answer; --json gives the replies', async () => {
  const io = testIo({ env });
  assert.equal(await main(['inspect', 'ping'], io), 0, io.stderr.text);
  assert.equal(io.stdout.text, 'inspected-worker  pong\n');
  const json = testIo({ env });
  assert.equal(await main(['inspect', 'registered', '--json'], json), 0);
  assert.deepEqual(json.stdout.records(), [{ worker: 'inspected-worker', command: 'registered', reply: ['reports.generate'] }], 'one JSON object per line, as the README promises');
});

test('revoke refuses an id the task history does not know, saying so', async () => {
  const { databaseUrl, redisUrl } = await requireServices('postgres', 'redis');
  const schema = randomPrefix('cli-revoke');
  const withStore = { ...env, NIGHTSHIFT_DATABASE_URL: databaseUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_DATABASE_SCHEMA: schema };
  const store = new Store({ url: databaseUrl, schema });
  try {
    await migrate(store);
    const revoked = testIo({ env: withStore });
    assert.equal(await main(['revoke', 'no-such-task-id'], revoked), 2);
    assert.match(revoked.stderr.text, /^error: no task with id "no-such-task-id": nothing was revoked/);
    const json = testIo({ env: withStore });
    assert.equal(await main(['revoke', 'no-such-task-id', '--json'], json), 2);
    assert.deepEqual(json.stderr.records().map((r) => (r.error as { code: string }).code), ['E_TASK_NOT_FOUND']);
  } finally {
    await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await store.close();
  }
});

test('inspect says so when no worker answers, and exits 1', async () => {
  const io = testIo({ env: { ...env, NIGHTSHIFT_PREFIX: randomPrefix('nobody') } });
  assert.equal(await main(['inspect', 'ping', '--timeout', '200ms'], io), 1);
  assert.match(io.stderr.text, /^no worker answered within 200ms; is one running\?/);
  const json = testIo({ env: { ...env, NIGHTSHIFT_PREFIX: randomPrefix('nobody') } });
  assert.equal(await main(['inspect', 'ping', '--timeout', '200ms', '--json'], json), 1);
  assert.equal(json.stdout.text, '', 'no replies, no lines');
  assert.deepEqual(json.stderr.records().map((r) => (r.error as { code: string }).code), ['E_NO_REPLY']);
});

test('inspect without a known query is a usage error', async () => {
  const io = testIo({ env });
  assert.equal(await main(['inspect', 'everything'], io), 2);
  assert.match(io.stderr.text, /^error: unknown query "everything": "nightshift inspect" needs one of ping, active, reserved, stats, registered\ne\.g\. nightshift inspect ping\n$/);
  const typo = testIo({ env });
  assert.equal(await main(['inspect', 'pnig'], typo), 2);
  assert.match(typo.stderr.text, /\ndid you mean "nightshift inspect ping"\?\n$/);
  const none = testIo({ env });
  assert.equal(await main(['inspect'], none), 2);
  assert.match(none.stderr.text, /^error: "nightshift inspect" needs one of ping, /);
});
