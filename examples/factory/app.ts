import { defineApp } from '@nightshift/core';
import { readFactorySettings } from './src/settings.ts';
import { factoryTasks } from './src/tasks.ts';

export { closeFactoryResources } from './src/resources.ts';

export default defineApp({
  name: 'factory',
  tasks: factoryTasks(readFactorySettings()),
  timezone: 'UTC',
  schedule: [
    { name: 'tokens-cleanup', task: 'tokens.cleanupExpired', schedule: { every: '15m' } },
    // A run missed during downtime is replayed for its own day (the report covers the day before its fire time).
    { name: 'daily-usage-report', task: 'reports.generateDaily', schedule: '5 0 * * *', args: ['usage'], misfire: 'all' },
    { name: 'daily-users-report', task: 'reports.generateDaily', schedule: '5 0 * * *', args: ['users'], misfire: 'all' },
    // A stale health check is worth nothing: skip missed runs, and drop one not started within the minute.
    { name: 'api-health', task: 'apis.checkHealth', schedule: { every: '1m' }, args: [{ timeout: '2s' }], misfire: 'skip', options: { expires: '1m' } },
    { name: 'archive-completed-tasks', task: 'tasks.archiveCompleted', schedule: '30 2 * * *', args: [30] },
  ],
});
