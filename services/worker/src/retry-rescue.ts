import type { Broker } from '@nightshift/broker';
import { formatDuration, type Logger } from '@nightshift/core';
import { ValueType, type Counter, type Meter } from '@nightshift/telemetry';
import type { CompletionRecords } from './completion-records.ts';

/** Marks a retry sent again by the rescue: a second copy of one the ladder still holds. */
export const RESCUED_HEADER = 'x-nightshift-rescued';
/** The most retries one batch sends again at once, and the most batches per queue in one sweep. */
const BATCH = 200;
const MAX_BATCHES = 50;

export interface RetryRescueOptions {
  readonly broker: Broker;
  readonly completions: CompletionRecords;
  /** The queues this worker consumes now: only their retries are its business. */
  readonly queues: () => readonly string[];
  /** `NIGHTSHIFT_RETRY_RESCUE_AFTER`: how long past its time a retry that has not started is sent again. */
  readonly afterMs: number;
  readonly log: Logger;
  readonly meter: Meter;
}

/**
 * Sends a retry again when the ladder did not bring it back. A retry waits in a TTL queue and returns through
 * RabbitMQ's at-least-once dead-lettering; on RabbitMQ 3.10 the dead-letter worker of a retry queue that started
 * while its work queue's record still named a dead leader keeps trying that node and holds every retry of that
 * queue until the node is back (the runbook's "Retry queue holds messages, none ready"). So each retry is
 * expected in Redis (completion-records.ts writes the entry, a claim of the attempt removes it), and one still
 * there `afterMs` past its time is published straight to its queue, marked, once. If the ladder's own copy
 * arrives later, the completion claim keeps the attempt from running twice. Without Redis nothing is rescued.
 */
export class RetryRescue {
  readonly #options: RetryRescueOptions;
  readonly #rescued: Counter;
  #timer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(options: RetryRescueOptions) {
    this.#options = options;
    this.#rescued = options.meter.createCounter('nightshift.retries.rescued', {
      description: 'Retries published again because the retry ladder had not brought them back well past their time (a stuck RabbitMQ dead-letter worker after a node loss)', valueType: ValueType.INT,
    });
  }

  start(): void {
    if (this.#options.completions.mode === 'off') return;
    // Often enough that a rescue follows its deadline by a fraction of it.
    const every = Math.max(500, Math.min(5_000, Math.floor(this.#options.afterMs / 3)));
    this.#timer = setInterval(() => {
      this.#sweeping ??= this.sweep().then(() => undefined, () => undefined).finally(() => { this.#sweeping = undefined; });
    }, every);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#sweeping;
  }

  /** One pass over this worker's queues; resolves with how many retries were sent again. Never throws. */
  async sweep(now = Date.now()): Promise<number> {
    const { afterMs } = this.#options;
    let sent = 0;
    for (const queue of this.#options.queues()) {
      // Batch after batch while they come full: a ladder stuck for long can hold thousands.
      for (let batch = 0; batch < MAX_BATCHES; batch++) {
        const taken = await this.#rescueBatch(queue, now - afterMs);
        sent += taken.sent;
        if (!taken.full) break;
      }
    }
    return sent;
  }

  /** Takes and sends one batch; `full`: as many as a batch takes were overdue and all were sent (look again). */
  async #rescueBatch(queue: string, dueBefore: number): Promise<{ full: boolean; sent: number }> {
    const { broker, completions, afterMs, log } = this.#options;
    const overdue = await completions.takeOverdueRetries(queue, dueBefore, BATCH);
    if (overdue.length === 0) return { full: false, sent: 0 };
    let failed = 0;
    await Promise.all(overdue.map(async ({ member, message }) => {
      try {
        await broker.publisher.publish(broker.names.tasks, queue, Buffer.from(message.body, 'base64'), {
          messageId: member.slice(0, member.lastIndexOf(':')), type: message.task, contentType: 'application/json', persistent: true,
          headers: { ...message.headers, [RESCUED_HEADER]: true },
        });
        this.#rescued.add(1, { task: message.task });
      } catch {
        failed += 1;
        await completions.returnOverdueRetry(queue, member, message); // the next sweep tries it again
      }
    }));
    const sent = overdue.length - failed;
    log.warn({ queue, rescued: sent, failed, afterMs },
      `${sent} ${sent === 1 ? 'retry' : 'retries'} of queue ${queue} had not come back from the retry ladder ${formatDuration(afterMs)} past their time: sent again to the queue` +
        ' (if the ladder\'s copies arrive later they are acknowledged without running; see the runbook: "Retry queue holds messages, none ready")' +
        (failed > 0 ? `; ${failed} could not be sent and are tried again` : ''));
    return { full: overdue.length === BATCH && failed === 0, sent };
  }
}
