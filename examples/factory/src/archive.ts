import { defineTask, PermanentError } from '@nightshift/core';
import { factoryDatabase } from './schema.ts';
import type { FactorySettings } from './settings.ts';
import { inTransaction } from './transaction.ts';

export interface ArchiveResult {
  readonly archived: number;
  /** Tasks completed before this instant were moved. */
  readonly cutoff: string;
}

/** `tasks.archiveCompleted(daysOld)`: moves tasks completed more than `daysOld` days ago to the archive table. */
export function archiveCompletedTask(settings: FactorySettings) {
  return defineTask({
    name: 'tasks.archiveCompleted',
    queue: 'maintenance',
    softTimeLimit: '5m',
    timeLimit: '6m',
    retry: { maxRetries: 2, base: '1m' },
    async run(ctx, daysOld: number): Promise<ArchiveResult> {
      if (!Number.isInteger(daysOld) || daysOld < 0) {
        throw new PermanentError(`tasks.archiveCompleted: daysOld ${JSON.stringify(daysOld)} must be a whole number of days ≥ 0`);
      }
      const { pool, tables } = await factoryDatabase(settings);
      // Delete and insert in one transaction: a task is in exactly one of the two tables, whatever happens.
      const result = await inTransaction(pool, { signal: ctx.signal }, async (client) => {
        // now() is the transaction's start, so the cutoff is one instant for the whole move.
        const { rows } = await client.query<{ cutoff: Date }>('SELECT now() - make_interval(days => $1) AS cutoff', [daysOld]);
        const cutoff = rows[0]?.cutoff as Date;
        const moved = await client.query(
          `WITH moved AS (
             DELETE FROM ${tables.tasks}
              WHERE status = 'completed' AND completed_at < $1
          RETURNING id, title, status, created_at, completed_at
           )
           INSERT INTO ${tables.archivedTasks} (id, title, status, created_at, completed_at, archived_at)
           SELECT id, title, status, created_at, completed_at, now() FROM moved`,
          [cutoff],
        );
        return { archived: moved.rowCount ?? 0, cutoff: cutoff.toISOString() };
      });
      ctx.log.info({ ...result, daysOld }, 'completed tasks archived');
      return result;
    },
  });
}
