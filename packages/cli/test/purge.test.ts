import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { Broker, brokerOptions } from '@nightshift/broker';
import { loadConfig } from '@nightshift/core';
import { migrate, quoteIdent, Store } from '@nightshift/store';
import { randomPrefix, removePrefix, requireServices } from '@nightshift/test-helpers';
import { main } from '../src/main.ts';
import { testIo } from './test-io.ts';

let env: Record<string, string>;
let prefix: string;
let urls: { amqpUrl: string; redisUrl: string; databaseUrl: string };
let redis: Redis;
let store: Store;

/** An installation's leftovers: its topology with a message waiting, a beat key in Redis, a row in the store. */
async function install(): Promise<void> {
  const broker = await Broker.connect(brokerOptions(loadConfig(env), 'test'));
  await broker.ensureQueue('default');
  await broker.publisher.publish(broker.names.tasks, 'default', Buffer.from('{}'), { mandatory: true });
  await broker.close();
  await redis.set(`${prefix}:beat:leader`, 'w1');
  await migrate(store);
  await store.query(`INSERT INTO ${store.table('queue_actions')} (queue, action, by) VALUES ('q', 'purged', 'ana')`);
}

async function exists(queue: string): Promise<boolean> {
  const broker = await Broker.connect({ ...brokerOptions(loadConfig(env), 'test'), declareTopology: false });
  try {
    await broker.withChannel((channel) => channel.checkQueue(queue));
    return true;
  } catch {
    return false;
  } finally {
    await broker.close();
  }
}

before(async () => {
  urls = await requireServices('rabbitmq', 'redis', 'postgres');
  prefix = randomPrefix('cli-purge');
  env = { NIGHTSHIFT_AMQP_URL: urls.amqpUrl, NIGHTSHIFT_REDIS_URL: urls.redisUrl, NIGHTSHIFT_DATABASE_URL: urls.databaseUrl, NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix };
  redis = new Redis(urls.redisUrl);
  store = new Store({ url: urls.databaseUrl, schema: prefix });
  await install();
});
after(async () => {
  await removePrefix(urls, prefix).catch(() => {});
  await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(prefix)} CASCADE`).catch(() => {});
  await store.close();
  redis.disconnect();
});

test('purge lists what it will delete and deletes nothing unless the prefix is typed back (or --yes)', async () => {
  const noTerminal = testIo({ env });
  assert.equal(await main(['purge', '--prefix', prefix, '--database'], noTerminal), 2);
  assert.match(noTerminal.stdout.text, new RegExp(`will delete:\\n  RabbitMQ .*: \\d+ queues \\(1 messages\\), 5 exchanges\\n[\\s\\S]*queue ${prefix}\\.q\\.default \\(1 messages\\)`));
  assert.match(noTerminal.stdout.text, new RegExp(`Redis .*: 1 keys ${prefix}:\\*`));
  assert.match(noTerminal.stdout.text, /queue_actions \(1 rows\)/);
  assert.match(noTerminal.stderr.text, /nothing was deleted: no terminal to confirm on[\s\S]*--yes/);
  const declined = testIo({ env, answers: ['no'] });
  assert.equal(await main(['purge', '--prefix', prefix], declined), 1);
  assert.match(declined.stderr.text, /nothing was deleted/);
  assert.equal(await exists(`${prefix}.q.default`), true);
  assert.equal(await redis.exists(`${prefix}:beat:leader`), 1);
});

test('purge --yes --database --json deletes every queue, exchange, Redis key and store row of the prefix', async () => {
  const other = randomPrefix('cli-keep');
  await redis.set(`${other}:beat:leader`, 'w2');
  // Beat's change fence takes an equal change mark for "nothing committed since": a purge that set the counts back
  // would let a few changes after it bring the mark to a value beat read before, with other entries behind it.
  // The mark is the counts' sum with the server's start time: the counts are read here.
  const counted = async () => BigInt((await store.query<{ n: string }>(`SELECT coalesce(sum(changes), 0)::text AS n FROM ${store.table('schedule_change_marks')}`)).rows[0]?.n ?? '0');
  for (let i = 0; i < 3; i++) await store.query(`UPDATE ${store.table('schedules')} SET note = note WHERE false`);
  const markBefore = await counted();
  const io = testIo({ env });
  assert.equal(await main(['purge', '--prefix', prefix, '--database', '--yes', '--json'], io), 0, io.stderr.text);
  const markAfter = await counted();
  assert.ok(markAfter > markBefore, `the change mark only goes up, through a purge too (${markBefore} before, ${markAfter} after)`);
  const [plan, deleted] = io.stdout.records();
  assert.ok((plan?.plan as { queues: { name: string }[] }).queues.some((q) => q.name === `${prefix}.dead-letters`));
  assert.deepEqual({ ...(deleted?.deleted as object), queues: undefined, tables: undefined }, { exchanges: 5, redisKeys: 1, queues: undefined, tables: undefined });
  assert.equal(await exists(`${prefix}.q.default`), false);
  assert.equal(await exists(`${prefix}.retry.1s`), false);
  assert.equal(await redis.exists(`${prefix}:beat:leader`), 0);
  assert.equal(await redis.exists(`${other}:beat:leader`), 1, 'another prefix\'s keys stay');
  await redis.del(`${other}:beat:leader`);
  const { rows } = await store.query<{ n: string }>(`SELECT count(*) AS n FROM ${store.table('queue_actions')}`);
  assert.equal(Number(rows[0]?.n), 0);
});

test('purge refuses a missing or odd prefix, naming --prefix', async () => {
  const io = testIo({ env });
  assert.equal(await main(['purge'], io), 2);
  assert.match(io.stderr.text, /needs --prefix/);
  const odd = testIo({ env });
  assert.equal(await main(['purge', '--prefix', '*'], odd), 2);
  assert.match(odd.stderr.text, /--prefix "\*" is not a prefix/);
});
