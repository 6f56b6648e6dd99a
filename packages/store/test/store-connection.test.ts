// The store's own connection handling, on the real PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { testStore } from './support.ts';

let ctx: Awaited<ReturnType<typeof testStore>>;
before(async () => { ctx = await testStore(); });
after(async () => { await ctx.cleanup(); });

test('a connection that dies inside a transaction fails that transaction, not the process; the next one works', async () => {
  // The server ends the transaction's own connection, as a PostgreSQL restart or a failover does mid-transaction.
  await assert.rejects(ctx.store.transaction(async (client) => {
    await client.query('SELECT pg_terminate_backend(pg_backend_pid())');
  }));
  // Let the dying connection's events arrive: unheard, its 'error' would have been an uncaught exception by now.
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(await ctx.store.transaction(async (client) => (await client.query<{ one: number }>('SELECT 1 AS one')).rows[0]), { one: 1 });
});
