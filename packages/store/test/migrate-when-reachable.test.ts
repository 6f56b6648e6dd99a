import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff } from '@nightshift/core';
import { freePort, randomPrefix, requireServices } from '@nightshift/test-helpers';
import { isTransientStoreError, loadMigrations, migrateWhenReachable, quoteIdent, Store } from '@nightshift/store';

/** Keeps what was logged, and resolves `warned` on the first warning. */
function recordingLogger() {
  const lines: Array<{ level: string; fields: object | string; msg: string | undefined }> = [];
  let onWarn: () => void = () => {};
  const warned = new Promise<void>((resolve) => { onWarn = resolve; });
  const line = (level: string) => (fields: object | string, msg?: string) => {
    lines.push({ level, fields, msg });
    if (level === 'warn') onWarn();
  };
  return { lines, warned, logger: { debug: line('debug'), info: line('info'), warn: line('warn'), error: line('error') } };
}

/** A PostgreSQL URL whose port nobody listens on: every connection is refused at once. */
async function refusedUrl(): Promise<string> {
  const { databaseUrl } = await requireServices('postgres');
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(await freePort());
  return url.toString();
}

// A wait of a minute: only the signal can end it before the test's timeout.
const MINUTE_LONG = new Backoff({ base: '1m', max: '1m', jitter: 0 }, 'test backoff');

test('aborting while it waits for an unreachable PostgreSQL rejects at once with the abort, and closes the store', { timeout: 20_000 }, async () => {
  const store = new Store({ url: await refusedUrl(), schema: randomPrefix('unreachable') });
  const { lines, warned, logger } = recordingLogger();
  const controller = new AbortController();
  const migrating = migrateWhenReachable(store, { logger, signal: controller.signal, backoff: MINUTE_LONG });
  await warned;
  assert.equal(lines[0]?.msg, 'waiting for PostgreSQL to apply the store migrations');
  assert.deepEqual((lines[0]?.fields as { retryInMs?: number }).retryInMs, 60_000);
  controller.abort(new Error('SIGTERM during start-up'));
  await assert.rejects(migrating, (error: unknown) => error instanceof Error && error.name === 'AbortError');
  assert.equal(store.closed, true);
});

test('a signal that aborted before the first attempt rejects without trying', { timeout: 20_000 }, async () => {
  const store = new Store({ url: await refusedUrl(), schema: randomPrefix('unreachable') });
  const { lines, logger } = recordingLogger();
  await assert.rejects(migrateWhenReachable(store, { logger, signal: AbortSignal.abort(), backoff: MINUTE_LONG }), { name: 'AbortError' });
  assert.deepEqual(lines, []);
  assert.equal(store.closed, true);
});

test('an error no wait can fix (a database that does not exist) rejects at once, unwaited', { timeout: 20_000 }, async () => {
  const { databaseUrl } = await requireServices('postgres');
  const url = new URL(databaseUrl);
  url.pathname = `/${randomPrefix('missing')}`;
  const store = new Store({ url: url.toString(), schema: randomPrefix('missing') });
  const { lines, logger } = recordingLogger();
  await assert.rejects(migrateWhenReachable(store, { logger, backoff: MINUTE_LONG }), (error: unknown) => !isTransientStoreError(error) && /does not exist/.test((error as Error).message));
  assert.deepEqual(lines, [], 'no "waiting for PostgreSQL" line');
  assert.equal(store.closed, true);
});

test('a reachable PostgreSQL is migrated at once and the applied migrations are logged', async () => {
  const { databaseUrl } = await requireServices('postgres');
  const store = new Store({ url: databaseUrl, schema: randomPrefix('reachable') });
  const { lines, logger } = recordingLogger();
  try {
    const result = await migrateWhenReachable(store, { logger, signal: new AbortController().signal, backoff: MINUTE_LONG });
    assert.equal(result.applied.length, loadMigrations().length);
    assert.deepEqual(lines.map((l) => `${l.level} ${l.msg}`), [`info applied ${loadMigrations().length} store migration(s)`]);
    assert.equal(store.closed, false, 'the store stays open for the service');
  } finally {
    await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(store.schema)} CASCADE`).catch(() => {});
    await store.close();
  }
});
