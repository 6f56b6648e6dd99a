import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PermanentError } from '@nightshift/core';
import { archiveCompletedTask } from '../src/archive.ts';
import { postgres } from '../src/resources.ts';
import { factoryDatabase } from '../src/schema.ts';
import { isolatedPerTest } from './isolation.ts';
import { taskContext } from './task-context.ts';

const settings = isolatedPerTest();

const daysAgo = (days: number) => new Date(Date.now() - days * 86_400_000);

test('moves only completed tasks older than N days to the archive, in one go', async () => {
  const s = settings();
  const { tables } = await factoryDatabase(s);
  const seed: [title: string, status: string, completedAt: Date | null][] = [
    ['old done 1', 'completed', daysAgo(45)],
    ['old done 2', 'completed', daysAgo(31)],
    ['recent done', 'completed', daysAgo(29)],
    ['old open', 'open', null],
    ['old cancelled', 'cancelled', null],
    ['in progress', 'in_progress', null],
  ];
  for (const [title, status, completedAt] of seed) {
    await postgres().query(`INSERT INTO ${tables.tasks} (title, status, created_at, completed_at) VALUES ($1, $2, $3, $4)`, [title, status, daysAgo(60), completedAt]);
  }
  const before = await postgres().query<{ id: string; title: string; created_at: Date; completed_at: Date }>(`SELECT id, title, created_at, completed_at FROM ${tables.tasks} WHERE title LIKE 'old done%' ORDER BY id`);

  const task = archiveCompletedTask(s);
  const result = await task.run(taskContext(task.name).ctx, 30);
  assert.equal(result.archived, 2);
  assert.ok(Math.abs(Date.parse(result.cutoff) - daysAgo(30).getTime()) < 60_000, `cutoff ${result.cutoff} is 30 days ago`);

  const left = await postgres().query(`SELECT title FROM ${tables.tasks} ORDER BY title`);
  assert.deepEqual(left.rows.map((row) => row.title), ['in progress', 'old cancelled', 'old open', 'recent done']);
  const archived = await postgres().query(`SELECT id, title, created_at, completed_at, status, archived_at FROM ${tables.archivedTasks} ORDER BY id`);
  assert.deepEqual(archived.rows.map(({ id, title, created_at, completed_at }) => ({ id, title, created_at, completed_at })), before.rows);
  assert.ok(archived.rows.every((row) => row.status === 'completed' && row.archived_at instanceof Date));

  assert.equal((await task.run(taskContext(task.name).ctx, 30)).archived, 0, 'a second run moves nothing');
  assert.equal((await task.run(taskContext(task.name).ctx, 0)).archived, 1, 'daysOld 0 takes every completed task');
});

test('a failure inside the move leaves both tables as they were', async () => {
  const s = settings();
  const { tables } = await factoryDatabase(s);
  await postgres().query(`INSERT INTO ${tables.tasks} (id, title, status, completed_at) VALUES (1, 'a', 'completed', $1), (2, 'b', 'completed', $1)`, [daysAgo(90)]);
  // Task 2 is already in the archive: the insert collides after the delete has run.
  await postgres().query(`INSERT INTO ${tables.archivedTasks} (id, title, status, created_at, completed_at, archived_at) VALUES (2, 'b', 'completed', now(), now(), now())`);
  const task = archiveCompletedTask(s);
  await assert.rejects(async () => task.run(taskContext(task.name).ctx, 30), /duplicate key/);
  const { rows } = await postgres().query(`SELECT id::int FROM ${tables.tasks} ORDER BY id`);
  assert.deepEqual(rows, [{ id: 1 }, { id: 2 }]);
});

test('daysOld that is not a whole number ≥ 0 is a PermanentError', async () => {
  const task = archiveCompletedTask(settings());
  await assert.rejects(async () => task.run(taskContext(task.name).ctx, -1), PermanentError);
  await assert.rejects(async () => task.run(taskContext(task.name).ctx, 1.5), PermanentError);
});
