import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { BulkRequeues, type BulkRequeue, type DeadLetterFilter, type DeadLetters, type ReplayPublisher, type Store } from '@nightshift/store';
import type { Logger } from '@nightshift/core';

/** How long a health-api holds a running job without renewing: a lost one's jobs are taken over after this. */
const LEASE_MS = 15_000;
/** How often leases are renewed and unheld jobs looked for. */
const LOOK_MS = 2_000;

/** Why a job's loop was told to stop: a person stopped it, or this health-api is going (the job carries on elsewhere). */
type StopReason = 'stopped' | 'shutdown' | 'lost';

/**
 * Bulk requeues run in the background of the health-api, paced (`perSecond`, as SQS's redrive velocity) so a
 * thousand replays do not land on the workers at once. Each replay is its own transaction, which also counts it
 * in the job's row (`bulk_requeues`): a job stopped or cut short leaves the rest pending, never half-sent, and
 * its count is exact. A job outlives the health-api running it: one that shuts down lets go of its jobs and the
 * next health-api to look (a restarted one, or another replica) resumes them at once; one that is lost stops
 * renewing its lease, and its jobs are taken over when the lease lapses. Any replica answers for a job's progress.
 */
export class BulkRequeueRunner {
  readonly #jobs: BulkRequeues;
  readonly #deadLetters: DeadLetters;
  readonly #publish: ReplayPublisher;
  readonly #logger: Logger;
  /** This health-api, as the holder of the jobs it runs. */
  readonly #owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  readonly #running = new Map<string, { stop: AbortController; done: Promise<void> }>();
  #timer: NodeJS.Timeout | undefined;
  #looking: Promise<void> = Promise.resolve();
  #closed = false;
  /** Whether the store's unreachability was logged: once per outage, not every look. */
  #storeDown = false;

  constructor(store: Store, deadLetters: DeadLetters, publish: ReplayPublisher, logger: Logger) {
    this.#jobs = new BulkRequeues(store);
    this.#deadLetters = deadLetters;
    this.#publish = publish;
    this.#logger = logger;
  }

  /** Resumes the jobs nobody runs now, then keeps looking (and renewing its own leases). */
  start(): void {
    this.#looking = this.#look();
    this.#timer = setInterval(() => { this.#looking = this.#looking.then(() => this.#look()); }, LOOK_MS);
    this.#timer.unref();
  }

  /**
   * Starts requeuing the pending dead letters of `filter` (at most `limit`, oldest first): those dead before now,
   * so a letter that arrives meanwhile is not swept up with the ones counted.
   */
  async begin(filter: DeadLetterFilter, options: { perSecond: number; limit: number; by: string; note?: string }): Promise<BulkRequeue> {
    const now = new Date();
    const bounded: DeadLetterFilter = { ...filter, until: filter.until !== undefined && filter.until < now ? filter.until : now };
    const total = Math.min(options.limit, await this.#deadLetters.count({ ...bounded, status: 'pending' }));
    const job = await this.#jobs.create({ id: randomUUID(), by: options.by, filter: bounded, perSecond: options.perSecond, total, ...(options.note !== undefined ? { note: options.note } : {}) }, this.#owner, LEASE_MS);
    if (job.state === 'running') this.#run(job);
    return job;
  }

  get(id: string): Promise<BulkRequeue | undefined> {
    return this.#jobs.get(id);
  }

  list(): Promise<BulkRequeue[]> {
    return this.#jobs.list();
  }

  /** Stops a running job between two replays, here or (at its next lease renewal) on the replica running it. */
  async stop(id: string): Promise<BulkRequeue | undefined> {
    const ended = await this.#jobs.end(id, 'stopped');
    this.#running.get(id)?.stop.abort('stopped' satisfies StopReason);
    return ended;
  }

  /** At shutdown: the jobs running here stop between two replays and are let go, for the next health-api to resume. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#looking;
    const running = [...this.#running.values()];
    for (const { stop } of running) stop.abort('shutdown' satisfies StopReason);
    await Promise.all(running.map(({ done }) => done));
  }

  #run(job: BulkRequeue): void {
    const stop = new AbortController();
    const remaining = job.total - job.done;
    // Cut short after its last replay and before it was marked finished: nothing is left but to say so.
    const requeued = remaining <= 0 ? Promise.resolve([]) : this.#deadLetters.requeue({ ...job.filter, status: 'pending', limit: remaining }, {
      publish: this.#publish, by: job.by, perSecond: job.perSecond, signal: stop.signal, ...(job.note !== null ? { note: job.note } : {}),
      onReplayed: (client) => this.#jobs.countReplay(client, job.id),
    });
    const done = requeued.then(
      async (outcomes) => {
        const reason = stop.signal.aborted ? stop.signal.reason as StopReason : undefined;
        if (reason === 'shutdown') {
          await this.#jobs.release(job.id, this.#owner);
          this.#logger.info({ job: job.id, requeued: outcomes.length }, 'bulk requeue let go at shutdown: the next health-api resumes it');
        } else if (reason === undefined) {
          // Fewer than counted: the rest were reviewed by someone else meanwhile. Either way, nothing is left to do.
          await this.#jobs.end(job.id, 'finished');
        }
      },
      async (error: unknown) => {
        const message = (error as Error).message;
        this.#logger.warn({ err: { message }, job: job.id }, 'bulk requeue failed');
        await this.#jobs.end(job.id, 'failed', message);
      },
    ).catch((error: unknown) => {
      // The store is unreachable: the job stays running, unheld once its lease lapses, and is taken over then.
      this.#logger.warn({ err: { message: (error as Error).message }, job: job.id }, 'bulk requeue: its state could not be recorded; it will be resumed');
    }).finally(() => this.#running.delete(job.id));
    this.#running.set(job.id, { stop, done });
  }

  async #look(): Promise<void> {
    if (this.#closed) return;
    try {
      const held = await this.#jobs.renew(this.#owner, [...this.#running.keys()], LEASE_MS);
      // Stopped from another replica, or taken over after this one's lease lapsed: this one lets it be.
      for (const [id, { stop }] of this.#running) if (!held.has(id)) stop.abort('lost' satisfies StopReason);
      if (this.#closed) return;
      for (const job of await this.#jobs.takeOver(this.#owner, LEASE_MS)) {
        this.#logger.info({ job: job.id, done: job.done, total: job.total, by: job.by }, `bulk requeue resumed here: ${job.done} of ${job.total} were done`);
        this.#run(job);
      }
      this.#storeDown = false;
    } catch (error) {
      if (!this.#storeDown) this.#logger.warn({ err: { message: (error as Error).message } }, 'bulk requeues: the store could not be asked; running ones are resumed when it answers');
      this.#storeDown = true;
    }
  }
}
