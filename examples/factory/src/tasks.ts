import { archiveCompletedTask } from './archive.ts';
import { checkHealthTask } from './health.ts';
import { generateDailyReportTask } from './reports.ts';
import type { FactorySettings } from './settings.ts';
import { cleanupExpiredTokensTask } from './tokens.ts';
import { syncUserTask } from './users.ts';

/** The factory's tasks, bound to `settings`. Tests bind them to a schema and key prefix of their own. */
export function factoryTasks(settings: FactorySettings) {
  return [
    cleanupExpiredTokensTask(settings),
    generateDailyReportTask(settings),
    checkHealthTask(settings),
    archiveCompletedTask(settings),
    syncUserTask(settings),
  ] as const;
}
