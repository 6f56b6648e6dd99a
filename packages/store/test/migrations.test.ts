import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { test } from 'node:test';
import { requireServices, randomPrefix } from '@nightshift/test-helpers';
import { assertMigrated, dumpSchema, loadMigrations, migrate, quoteIdent, SchemaNotReadyError, Store } from '@nightshift/store';
import { testStore } from './support.ts';

const SCHEMA_FILE = new URL('../schema.sql', import.meta.url);

test('two stores migrating the same schema at once apply each migration once', async () => {
  const { databaseUrl } = await requireServices('postgres');
  const schema = randomPrefix('migrate');
  const first = new Store({ url: databaseUrl, schema });
  const second = new Store({ url: databaseUrl, schema });
  try {
    const results = await Promise.all([migrate(first), migrate(second)]);
    const latest = loadMigrations().length;
    assert.deepEqual(results.map((r) => r.applied.length).sort(), [0, latest], 'one applied everything, the other found nothing to do');
    assert.deepEqual(results.map((r) => r.version), [latest, latest]);
    const { rows } = await first.query<{ version: number }>(`SELECT version FROM ${first.table('schema_migrations')} ORDER BY version`);
    assert.deepEqual(rows.map((r) => r.version), loadMigrations().map((m) => m.version));
    assert.deepEqual((await migrate(first)).applied, [], 'a third run is a no-op');
    await assertMigrated(first);
  } finally {
    await first.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
    await Promise.all([first.close(), second.close()]);
  }
});

test('an unmigrated schema is refused with what to run', async () => {
  const ctx = await testStore({ migrated: false });
  try {
    await assert.rejects(assertMigrated(ctx.store), (error: Error) => error instanceof SchemaNotReadyError && /run "nightshift db migrate"/.test(error.message));
  } finally {
    await ctx.cleanup();
  }
});

test('an applied migration whose file changed is refused', async () => {
  const ctx = await testStore();
  try {
    const edited = loadMigrations().map((m, index) => (index === 0 ? { ...m, checksum: 'edited' } : m));
    await assert.rejects(migrate(ctx.store, edited), /was changed after it was applied.*add a new migration/);
  } finally {
    await ctx.cleanup();
  }
});

// The committed dump shows schema changes in review. Regenerate it with UPDATE_SCHEMA=1 npm test.
test('schema.sql is what the migrations produce', async () => {
  const ctx = await testStore();
  try {
    const dump = await dumpSchema(ctx.store);
    if (process.env.UPDATE_SCHEMA === '1') writeFileSync(SCHEMA_FILE, dump);
    let committed = '';
    try {
      committed = readFileSync(SCHEMA_FILE, 'utf8');
    } catch {
      assert.fail('packages/store/schema.sql is missing: run UPDATE_SCHEMA=1 npm test in packages/store and commit it');
    }
    assert.equal(dump, committed, 'the migrations and packages/store/schema.sql disagree: run UPDATE_SCHEMA=1 npm test in packages/store and commit schema.sql');
  } finally {
    await ctx.cleanup();
  }
});
