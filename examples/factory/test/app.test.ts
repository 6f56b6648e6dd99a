import assert from 'node:assert/strict';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadApp, resolveTaskSettings } from '@nightshift/core';

const root = dirname(dirname(fileURLToPath(import.meta.url)));

test('app.ts loads with loadApp: the five tasks of the lecture and their schedule', async () => {
  const app = await loadApp('app.ts', root);
  assert.equal(app.name, 'factory');
  assert.equal(app.timezone, 'UTC');
  assert.deepEqual(app.tasks.map((task) => task.name).sort(), [
    'apis.checkHealth', 'reports.generateDaily', 'tasks.archiveCompleted', 'tokens.cleanupExpired', 'users.sync',
  ]);
  const schedule = Object.fromEntries(app.schedule.map((entry) => [entry.name, entry]));
  assert.deepEqual(schedule['tokens-cleanup']?.schedule, { every: '15m' });
  assert.equal(schedule['daily-usage-report']?.schedule, '5 0 * * *');
  assert.deepEqual(schedule['daily-usage-report']?.args, ['usage']);
  assert.deepEqual(schedule['api-health']?.schedule, { every: '1m' });
  assert.equal(schedule['archive-completed-tasks']?.task, 'tasks.archiveCompleted');
});

test('users.sync carries the small limits a worker shows at work', async () => {
  const app = await loadApp('app.ts', root);
  const sync = app.task('users.sync');
  assert.ok(sync);
  const resolved = resolveTaskSettings(app, sync);
  assert.equal(resolved.queue, 'sync');
  assert.equal(resolved.softTimeLimitMs, 10_000);
  assert.equal(resolved.timeLimitMs, 15_000);
  const health = app.task('apis.checkHealth');
  assert.ok(health);
  assert.equal(resolveTaskSettings(app, health).retry.maxRetries, 0);
});
