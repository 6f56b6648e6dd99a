import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertMigrated, quoteIdent, Store } from '@nightshift/store';
import { connect } from 'amqplib';
import { eventually, randomPrefix, requireServices } from '@nightshift/test-helpers';
import { main } from '../src/main.ts';
import { findRepoRoot, locateServices } from '../src/nightshift-services.ts';
import { testIo } from './test-io.ts';

test('nightshift up finds the alerter service', () => {
  const alerter = locateServices(findRepoRoot()).find((service) => service.name === 'alerter');
  assert.equal(alerter?.exists, true, `${alerter?.main} exists`);
});

test('nightshift alerter migrates, consumes the dead-letters queue, and stops on Ctrl-C', async () => {
  const { amqpUrl, databaseUrl } = await requireServices('rabbitmq', 'postgres');
  const prefix = randomPrefix('cli-alerter');
  const env = {
    NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_DATABASE_URL: databaseUrl, NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix,
    NIGHTSHIFT_METRICS_PORT: '0', NIGHTSHIFT_LOG_LEVEL: 'silent',
  };
  const store = new Store({ url: databaseUrl, schema: prefix });
  const io = testIo({ env });
  const running = main(['alerter'], io);
  try {
    await eventually('the store migrated', () => assertMigrated(store).then(() => true, () => false), 15_000, 100);
    await eventually('a consumer on the dead-letters queue', () => consumers(amqpUrl, `${prefix}.dead-letters`).then((n) => n >= 1), 15_000, 100);
    io.interrupt('SIGINT');
    assert.equal(await running, 0, io.stderr.text);
  } finally {
    io.interrupt('SIGINT');
    await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(prefix)} CASCADE`);
    await store.close();
    const connection = await connect(amqpUrl);
    const channel = await connection.createChannel();
    for (const queue of ['dead-letters', 'retry.1s', 'retry.5s', 'retry.30s', 'retry.2m', 'retry.10m', 'retry.1h']) await channel.deleteQueue(`${prefix}.${queue}`);
    for (const exchange of ['tasks', 'retry', 'dlx', 'events', 'control']) await channel.deleteExchange(`${prefix}.${exchange}`);
    await connection.close();
  }
});

/** Consumers of a queue; 0 while it does not exist yet. */
async function consumers(amqpUrl: string, queue: string): Promise<number> {
  const connection = await connect(amqpUrl);
  try {
    const channel = await connection.createChannel();
    channel.on('error', () => {}); // a queue not declared yet closes the channel with 404
    return (await channel.checkQueue(queue)).consumerCount;
  } catch {
    return 0;
  } finally {
    await connection.close().catch(() => {});
  }
}
