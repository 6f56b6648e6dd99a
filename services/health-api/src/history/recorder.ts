import { parseEvents, type Broker, type Delivery, type Subscription } from '@nightshift/broker';
import { Backoff, type Logger } from '@nightshift/core';
import type { FireInput, ScheduleRecords, TaskEventInput, TaskRuns } from '@nightshift/store';
import type { RedactOptions } from '@nightshift/telemetry';
import { declareHistoryQueue } from '../event-queues.ts';
import { toFire } from './fire-event.ts';
import { toTaskEvent } from './task-event.ts';

export interface RecorderOptions {
  readonly broker: Broker;
  readonly taskRuns: TaskRuns;
  /** Where each fire time's fate goes (from beat's `beat.dispatched` and `beat.missed` events). */
  readonly scheduleRecords: ScheduleRecords;
  readonly logger: Logger;
  readonly redaction: RedactOptions;
  /** Events the history queue holds while no recorder runs. */
  readonly queueLength: number;
  /** Events written in one transaction at most. Default: `1000`. */
  readonly maxBatch?: number;
  /** How long the first event of a batch may wait for others. Default: `50` ms. */
  readonly flushMs?: number;
  /** After every committed batch: how many events, and each one's lag from its time to the commit. */
  readonly onCommitted?: (events: number, lagsMs: readonly number[]) => void;
}

// Writing a batch again while PostgreSQL refuses it: 200 ms doubling to 10 s; a stop ends the wait.
const WRITE_BACKOFF = new Backoff({ base: 200, factor: 2, max: 10_000, jitter: 0 }, 'history write backoff');

/** What one message of the history queue holds, as the history records it. */
interface Recordable {
  readonly tasks: TaskEventInput[];
  readonly fires: FireInput[];
  /** When each event happened (ISO 8601), for the recording lag. */
  readonly times: string[];
}

/**
 * Records task events and beat's fire events into the history: consumes the shared history queue, writes
 * what arrived per batch (the task events in one transaction, then the fires), and acks only after both are
 * committed, so a crash or a database outage loses nothing (the batch is retried with backoff while its
 * messages stay unacked, bounded by the prefetch; both writes are idempotent, so a batch written again,
 * whole or in part, changes nothing).
 */
export class HistoryRecorder {
  readonly #options: RecorderOptions;
  readonly #maxBatch: number;
  readonly #flushMs: number;
  #buffer: { delivery: Delivery; recordable: Recordable }[] = [];
  #buffered = 0;
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> | undefined;
  #subscription: Subscription | undefined;
  #stopping = false;
  readonly #stopped = new AbortController();
  /** Events committed since start (task events and fires). */
  recorded = 0;

  constructor(options: RecorderOptions) {
    this.#options = options;
    this.#maxBatch = options.maxBatch ?? 1_000;
    this.#flushMs = options.flushMs ?? 50;
  }

  async start(): Promise<void> {
    const queue = await declareHistoryQueue(this.#options.broker, this.#options.queueLength);
    // Messages hold up to a few dozen events each (the worker groups them), so a modest prefetch fills a batch.
    this.#subscription = await this.#options.broker.consumeRaw(queue, (delivery) => this.#take(delivery), { prefetch: 200 });
  }

  /** Stops consuming, writes what is buffered, and returns anything unwritten to the queue. */
  async stop(): Promise<void> {
    await this.#subscription?.stopConsuming();
    this.#stopping = true;
    this.#stopped.abort();
    await this.#flush();
    await this.#subscription?.cancel();
  }

  #take(delivery: Delivery): void {
    const recordable: Recordable = { tasks: [], fires: [], times: [] };
    for (const event of parseEvents(delivery.message.content)) {
      const taskEvent = toTaskEvent(event, this.#options.redaction);
      const fire = taskEvent === undefined ? toFire(event, this.#options.redaction) : undefined;
      if (taskEvent !== undefined) recordable.tasks.push(taskEvent);
      if (fire !== undefined) recordable.fires.push(fire);
      if (taskEvent !== undefined || fire !== undefined) recordable.times.push(event.at);
    }
    this.#buffer.push({ delivery, recordable });
    this.#buffered += recordable.times.length;
    if (this.#buffered >= this.#maxBatch) void this.#flush();
    else this.#timer ??= setTimeout(() => void this.#flush(), this.#flushMs);
  }

  #flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flushing ??= this.#drain().finally(() => {
      this.#flushing = undefined;
      if (this.#buffer.length > 0 && !this.#stopping) this.#timer ??= setTimeout(() => void this.#flush(), 0);
    });
    return this.#flushing;
  }

  async #drain(): Promise<void> {
    while (this.#buffer.length > 0) {
      const batch = this.#buffer;
      this.#buffer = [];
      this.#buffered = 0;
      const tasks = batch.flatMap((entry) => entry.recordable.tasks);
      const fires = batch.flatMap((entry) => entry.recordable.fires);
      const times = batch.flatMap((entry) => entry.recordable.times);
      if (!(await this.#write(tasks, fires))) {
        for (const entry of batch) entry.delivery.nack(true);
        return;
      }
      for (const entry of batch) entry.delivery.ack();
      this.recorded += times.length;
      const now = Date.now();
      this.#options.onCommitted?.(times.length, times.map((at) => now - Date.parse(at)));
    }
  }

  /** Writes until it succeeds (backing off), or gives up when stopping. */
  async #write(tasks: readonly TaskEventInput[], fires: readonly FireInput[]): Promise<boolean> {
    const events = tasks.length + fires.length;
    let failures = 0;
    for (;;) {
      try {
        await this.#options.taskRuns.record(tasks);
        await this.#options.scheduleRecords.recordFires(fires);
        if (failures > 0) this.#options.logger.info({ events }, 'the history is being recorded again');
        return true;
      } catch (error) {
        if (failures === 0) this.#options.logger.warn({ err: { message: (error as Error).message }, events }, 'could not record task events; retrying with backoff (they wait in the queue)');
        failures += 1;
        if (this.#stopping) return false;
        try {
          await WRITE_BACKOFF.sleep(failures, this.#stopped.signal);
        } catch {
          return false; // stopped while waiting: the batch goes back to the queue
        }
      }
    }
  }
}
