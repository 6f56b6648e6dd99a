import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { loadConfig, revokedKey, revokeTtlMs } from '@nightshift/core';
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

test('revoke keeps a revoke of an id the task history does not know yet, saying so; an id cut short is refused', async () => {
  const { databaseUrl, redisUrl } = await requireServices('postgres', 'redis');
  const schema = randomPrefix('cli-revoke');
  const withStore = { ...env, NIGHTSHIFT_DATABASE_URL: databaseUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_DATABASE_SCHEMA: schema, USER: 'ana' };
  const store = new Store({ url: databaseUrl, schema });
  const redis = new Redis(redisUrl);
  const id = `not-sent-yet-${randomUUID()}`;
  try {
    await migrate(store);
    const revoked = testIo({ env: withStore });
    assert.equal(await main(['revoke', id], revoked), 0, revoked.stderr.text);
    assert.equal(revoked.stdout.lines().at(-1), `revoked ${id}; kept for workers started later; no run of it in the task history yet: it will be skipped if it arrives`);
    assert.match(revoked.stdout.text, /^inspected-worker {2}will be skipped\n/, 'the worker online heard it');
    assert.equal(JSON.parse(await redis.get(revokedKey(env.NIGHTSHIFT_PREFIX as string, id)) ?? 'null')?.by, 'ana', 'kept in Redis for workers started later');
    const json = testIo({ env: withStore });
    assert.equal(await main(['revoke', id, '--json'], json), 0);
    assert.deepEqual(json.stdout.records().at(-1), { id, known: false, keptMs: revokeTtlMs(0) });
    const audit = testIo({ env: withStore });
    assert.equal(await main(['control', 'history', '--json'], audit), 0);
    assert.deepEqual(audit.stdout.records().map((a) => [a.actor, a.via, a.action, a.args]), [['ana', 'cli', 'revoke', { id, task: null, known: false }], ['ana', 'cli', 'revoke', { id, task: null, known: false }]]);
    const cut = testIo({ env: withStore });
    assert.equal(await main(['revoke', '3f6c1c1e-…'], cut), 2);
    assert.match(cut.stderr.text, /^error: id "3f6c1c1e-…" looks cut short \(it has an ellipsis\): copy the whole id: nothing was revoked/);
  } finally {
    await redis.del(revokedKey(env.NIGHTSHIFT_PREFIX as string, id));
    redis.disconnect();
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
