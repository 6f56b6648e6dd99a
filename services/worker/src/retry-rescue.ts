import type { Broker } from '@nightshift/broker';
import { formatDuration, type Logger } from '@nightshift/core';
import { ValueType, type Counter, type Meter } from '@nightshift/telemetry';
import type { CompletionRecords } from './completion-records.ts';

/** Marks a retry sent again by the rescue: a second copy of one the ladder still holds. */
export const RESCUED_HEADER = 'x-nightshift-rescued';
/** The most retries one sweep of one queue sends again. */
const BATCH = 200;

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
    const { broker, completions, afterMs, log } = this.#options;
    let sent = 0;
    for (const queue of this.#options.queues()) {
      const overdue = await completions.takeOverdueRetries(queue, now - afterMs, BATCH);
      if (overdue.length === 0) continue;
      let failed = 0;
      await Promise.all(overdue.map(async ({ member, message }) => {
        const id = member.slice(0, member.lastIndexOf(':'));
        try {
          await broker.publisher.publish(broker.names.tasks, queue, Buffer.from(message.body, 'base64'), {
            messageId: id, type: message.task, contentType: 'application/json', persistent: true,
            headers: { ...message.headers, [RESCUED_HEADER]: true },
          });
          this.#rescued.add(1, { task: message.task });
          sent += 1;
        } catch {
          failed += 1;
          await completions.returnOverdueRetry(queue, member, message);
        }
      }));
      log.warn({ queue, rescued: overdue.length - failed, failed, afterMs },
        `${overdue.length - failed} retries of queue ${queue} had not come back from the retry ladder ${formatDuration(afterMs)} past their time: sent again to the queue` +
          ' (if the ladder\'s copies arrive later they are acknowledged without running; see the runbook: "Retry queue holds messages, none ready")' +
          (failed > 0 ? `; ${failed} could not be sent and are tried again` : ''));
    }
    return sent;
  }
}
