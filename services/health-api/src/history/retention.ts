import type { Logger } from '@nightshift/core';
import type { ScheduleRecords, TaskRuns } from '@nightshift/store';

export interface RetentionOptions {
  readonly taskRuns: TaskRuns;
  /** Its fires (each schedule's history) are kept as long as the task history. */
  readonly scheduleRecords: ScheduleRecords;
  readonly logger: Logger;
  /** Runs not updated for this long are deleted, and schedule fires recorded this long ago. */
  readonly retentionMs: number;
  /** How often to prune. Default: `10m`, the first time 10 s after start. */
  readonly everyMs?: number;
  /** Rows per DELETE, so that no statement holds its locks for long. Default: `1000`. */
  readonly batchSize?: number;
}

/**
 * Deletes history older than the retention in the background, in small batches: task runs and their timelines,
 * and the schedules' fires. Every replica may run it: deletes are idempotent.
 */
export class HistoryRetention {
  readonly #options: RetentionOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<number> | undefined;

  constructor(options: RetentionOptions) {
    this.#options = options;
  }

  start(): void {
    const every = this.#options.everyMs ?? 600_000;
    const tick = () => {
      void this.prune().finally(() => {
        this.#timer = setTimeout(tick, every);
        this.#timer.unref();
      });
    };
    this.#timer = setTimeout(tick, Math.min(10_000, every));
    this.#timer.unref();
  }

  /** Prunes now; resolves with the runs deleted (0 on failure, which is logged). */
  prune(): Promise<number> {
    this.#running ??= (async () => {
      try {
        const { taskRuns, scheduleRecords, retentionMs, batchSize = 1_000 } = this.#options;
        const before = new Date(Date.now() - retentionMs);
        const deleted = await taskRuns.prune(before, batchSize);
        const fires = await scheduleRecords.pruneFires(before, batchSize);
        if (deleted > 0 || fires > 0) this.#options.logger.info({ deleted, fires }, 'pruned task history and schedule fires older than the retention');
        return deleted;
      } catch (error) {
        this.#options.logger.warn({ err: { message: (error as Error).message } }, 'could not prune the task history; trying again later');
        return 0;
      } finally {
        this.#running = undefined;
      }
    })();
    return this.#running;
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    await this.#running;
  }
}
