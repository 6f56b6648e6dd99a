import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SoftTimeLimitExceeded } from '@nightshift/core';
import { postgres } from '../src/resources.ts';
import { factoryDatabase } from '../src/schema.ts';
import { inTransaction } from '../src/transaction.ts';
import { isolatedPerTest } from './isolation.ts';

const settings = isolatedPerTest();

test('an abort cancels the running statement, rolls back what was written and rejects with the reason', async () => {
  const { pool, tables } = await factoryDatabase(settings());
  const controller = new AbortController();
  const limit = new SoftTimeLimitExceeded(200);
  setTimeout(() => controller.abort(limit), 200);
  const started = performance.now();
  await assert.rejects(
    inTransaction(pool, { signal: controller.signal }, async (client) => {
      await client.query(`INSERT INTO ${tables.tasks} (title, status) VALUES ('written before the abort', 'open')`);
      await client.query('SELECT pg_sleep(30)');
    }),
    (error: unknown) => error === limit,
  );
  assert.ok(performance.now() - started < 5_000, 'the 30s statement was cancelled on the server');
  assert.deepEqual((await postgres().query(`SELECT * FROM ${tables.tasks}`)).rows, []);
  assert.equal(pool.totalCount - pool.idleCount, 0, 'no connection is left checked out');
});

test('commits when the work returns', async () => {
  const { pool, tables } = await factoryDatabase(settings());
  const id = await inTransaction(pool, { signal: new AbortController().signal }, async (client) => {
    const { rows } = await client.query<{ id: string }>(`INSERT INTO ${tables.tasks} (title, status) VALUES ('kept', 'open') RETURNING id`);
    return rows[0]?.id;
  });
  assert.deepEqual((await postgres().query(`SELECT id, title FROM ${tables.tasks}`)).rows, [{ id, title: 'kept' }]);
});
