import type { Logger } from '@nightshift/core';
import type { TaskRuns } from '@nightshift/store';

export interface RetentionOptions {
  readonly taskRuns: TaskRuns;
  readonly logger: Logger;
  /** Runs not updated for this long are deleted. */
  readonly retentionMs: number;
  /** How often to prune. Default: `10m`, the first time 10 s after start. */
  readonly everyMs?: number;
  /** Rows per DELETE, so that no statement holds its locks for long. Default: `1000`. */
  readonly batchSize?: number;
}

/** Deletes history older than the retention in the background, in small batches. Every replica may run it: deletes are idempotent. */
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
        const deleted = await this.#options.taskRuns.prune(new Date(Date.now() - this.#options.retentionMs), this.#options.batchSize ?? 1_000);
        if (deleted > 0) this.#options.logger.info({ deleted }, 'pruned task history older than the retention');
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
