import { randomUUID } from 'node:crypto';
import type { DeadLetterFilter, DeadLetters, ReplayPublisher } from '@nightshift/store';
import type { Logger } from '@nightshift/core';

/** A bulk requeue as it goes: the dashboard polls it for its progress bar. */
export interface BulkRequeueJob {
  readonly id: string;
  readonly by: string;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly perSecond: number;
  /** How many dead letters matched when it started (at most the count confirmed). */
  total: number;
  done: number;
  state: 'running' | 'finished' | 'failed' | 'stopped';
  /** Why it failed (`failed`): the store's refusal, e.g. a dead letter that is not a task message. */
  error: string | null;
}

/**
 * Bulk requeues run in the background of this health-api, paced (`perSecond`, as SQS's redrive velocity) so a
 * thousand replays do not land on the workers at once. Each replay is its own transaction: a job stopped or cut
 * short by a restart leaves the rest pending, never half-sent. Finished jobs are kept for an hour.
 */
export class BulkRequeues {
  readonly #jobs = new Map<string, { job: BulkRequeueJob; stop: AbortController }>();
  readonly #deadLetters: DeadLetters;
  readonly #publish: ReplayPublisher;
  readonly #logger: Logger;

  constructor(deadLetters: DeadLetters, publish: ReplayPublisher, logger: Logger) {
    this.#deadLetters = deadLetters;
    this.#publish = publish;
    this.#logger = logger;
  }

  /** Starts requeuing the pending dead letters of `filter` (at most `limit`, oldest first). */
  async start(filter: DeadLetterFilter, options: { perSecond: number; limit: number; by: string; note?: string }): Promise<BulkRequeueJob> {
    const total = Math.min(options.limit, await this.#deadLetters.count({ ...filter, status: 'pending' }));
    const job: BulkRequeueJob = { id: randomUUID(), by: options.by, startedAt: new Date().toISOString(), perSecond: options.perSecond, total, done: 0, state: 'running', error: null };
    const stop = new AbortController();
    this.#forget();
    this.#jobs.set(job.id, { job, stop });
    if (total === 0) {
      job.state = 'finished';
      return job;
    }
    void this.#deadLetters.requeue({ ...filter, status: 'pending', limit: total }, {
      publish: this.#publish, by: options.by, perSecond: options.perSecond, signal: stop.signal, ...(options.note !== undefined ? { note: options.note } : {}),
      onProgress: (done) => { job.done = done; },
    }).then(
      () => { job.state = stop.signal.aborted ? 'stopped' : 'finished'; },
      (error: unknown) => {
        job.state = 'failed';
        job.error = (error as Error).message;
        this.#logger.warn({ err: { message: job.error }, job: job.id }, 'bulk requeue failed');
      },
    );
    return job;
  }

  get(id: string): BulkRequeueJob | undefined {
    return this.#jobs.get(id)?.job;
  }

  /** Stops a running job between two replays. */
  stop(id: string): BulkRequeueJob | undefined {
    const entry = this.#jobs.get(id);
    entry?.stop.abort();
    return entry?.job;
  }

  /** Stops every job (at shutdown). */
  stopAll(): void {
    for (const { stop } of this.#jobs.values()) stop.abort();
  }

  #forget(nowMs = Date.now()): void {
    for (const [id, { job }] of this.#jobs) if (job.state !== 'running' && nowMs - Date.parse(job.startedAt) > 3_600_000) this.#jobs.delete(id);
  }
}
