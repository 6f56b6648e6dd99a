import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PermanentError, RetryableError, SoftTimeLimitExceeded } from '@nightshift/core';
import { postgres } from '../src/resources.ts';
import { factoryDatabase } from '../src/schema.ts';
import type { FactorySettings } from '../src/settings.ts';
import { syncUserTask } from '../src/users.ts';
import { isolatedPerTest } from './isolation.ts';
import { taskContext } from './task-context.ts';

const settings = isolatedPerTest();

async function usersIn(s: FactorySettings): Promise<Record<string, unknown>[]> {
  const { tables } = await factoryDatabase(s);
  const { rows } = await postgres().query(`SELECT id, email, full_name, plan FROM ${tables.users} ORDER BY id`);
  return rows;
}

test('fetches the user from the CRM, normalizes it and writes it', async () => {
  const s = settings();
  const task = syncUserTask(s);
  const result = await task.run(taskContext(task.name).ctx, 'ada-lovelace');
  assert.equal(result.status, 'synced');
  assert.ok(result.status === 'synced');
  assert.equal(result.user.email, 'ada.lovelace@example.com', 'trimmed and lower-cased');
  assert.equal(result.user.fullName, 'Ada Lovelace');
  assert.deepEqual(await usersIn(s), [{ id: 'ada-lovelace', email: 'ada.lovelace@example.com', full_name: 'Ada Lovelace', plan: result.user.plan }]);

  await task.run(taskContext(task.name).ctx, 'ada-lovelace');
  assert.equal((await usersIn(s)).length, 1, 'a second sync updates the same row');
});

test('when the soft time limit aborts the fetch, the transaction is rolled back and the result is a timeout', async () => {
  const s = settings();
  const task = syncUserTask(s);
  const { ctx, controller, logs } = taskContext(task.name);
  setTimeout(() => controller.abort(new SoftTimeLimitExceeded(300)), 300);
  const started = performance.now();
  const result = await task.run(ctx, 'slow-grace-hopper');
  assert.deepEqual(result, { status: 'timeout', userId: 'slow-grace-hopper' });
  assert.ok(performance.now() - started < 5_000, 'it gave up when the signal aborted, not when the CRM answered (30s)');
  assert.deepEqual(await usersIn(s), []);
  assert.ok(logs.some((entry) => entry.level === 'warn' && /rolled back/.test(entry.msg ?? '')));

  // The connection and the per-user lock were given back: the next sync goes through.
  const next = await task.run(taskContext(task.name).ctx, 'grace-hopper');
  assert.equal(next.status, 'synced');
});

test('an abort that is not the soft time limit (a revoke) fails the run with its reason', async () => {
  const task = syncUserTask(settings());
  const { ctx, controller } = taskContext(task.name);
  const revoked = new Error('revoked');
  setTimeout(() => controller.abort(revoked), 100);
  await assert.rejects(async () => task.run(ctx, 'slow-linus'), (error: unknown) => error === revoked);
});

test('a user the CRM does not know is a PermanentError; an overloaded CRM is worth a retry', async () => {
  const s = settings();
  const task = syncUserTask(s);
  await assert.rejects(async () => task.run(taskContext(task.name).ctx, 'missing-bob'), PermanentError);
  await assert.rejects(async () => task.run(taskContext(task.name).ctx, 'flaky-bob'), RetryableError);
  await assert.rejects(async () => task.run(taskContext(task.name).ctx, '../etc'), PermanentError);
  assert.deepEqual(await usersIn(s), []);
});
