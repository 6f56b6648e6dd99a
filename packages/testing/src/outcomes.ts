import type { Channel } from 'amqplib';
import { parseEvents, type Broker, type LifecycleEvent } from '@nightshift/broker';

/** How a task ended, as a test sees it. `events` is its whole timeline, in arrival order. */
export type TaskOutcome =
  | { readonly status: 'succeeded'; readonly id: string; readonly result: unknown; readonly attempts: number; readonly events: readonly LifecycleEvent[] }
  | {
      readonly status: 'dead-lettered';
      readonly id: string;
      /** `failed`, `unknown_task`, `malformed`, `expired`. */
      readonly reason: string;
      readonly error: { readonly name: string; readonly message: string; readonly code?: string } | undefined;
      readonly attempts: number;
      readonly events: readonly LifecycleEvent[];
    }
  | { readonly status: 'revoked'; readonly id: string; readonly attempts: number; readonly events: readonly LifecycleEvent[] };

const FINAL = new Set(['task.succeeded', 'task.dead-lettered', 'task.revoked']);

/** Listens to every task event of one installation (an exclusive queue on `events`) and answers "how did it end?". */
export class OutcomeTracker {
  readonly events: LifecycleEvent[] = [];
  readonly #waiters = new Set<() => void>();

  static async open(broker: Broker, channel: Channel): Promise<OutcomeTracker> {
    const tracker = new OutcomeTracker();
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, broker.names.events, 'task.#');
    await channel.consume(queue, (message) => {
      if (!message) return;
      tracker.events.push(...parseEvents(message.content));
      for (const wake of [...tracker.#waiters]) wake();
    }, { noAck: true });
    return tracker;
  }

  /** Resolves when the task reaches a final state; rejects after `timeoutMs` with what was seen so far. */
  outcome(id: string, timeoutMs: number): Promise<TaskOutcome> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const final = this.events.find((e) => e.id === id && FINAL.has(e.type));
        if (!final) return;
        done();
        resolve(toOutcome(id, final, this.events.filter((e) => e.id === id)));
      };
      const timer = setTimeout(() => {
        done();
        const seen = this.events.filter((e) => e.id === id).map((e) => e.type);
        reject(new Error(`task ${id} did not finish within ${timeoutMs}ms (seen: ${seen.join(' → ') || 'nothing'}); is a worker running on its queue?`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }
}

function toOutcome(id: string, final: LifecycleEvent, events: LifecycleEvent[]): TaskOutcome {
  const attempts = events.filter((e) => e.type === 'task.started').length;
  switch (final.type) {
    case 'task.succeeded':
      return { status: 'succeeded', id, result: final.result, attempts, events };
    case 'task.revoked':
      return { status: 'revoked', id, attempts, events };
    default: {
      const error = final.error as { name: string; message: string; code?: string } | undefined;
      return {
        status: 'dead-lettered', id, reason: String(final.reason), attempts, events,
        error: error ? { name: error.name, message: error.message, ...(error.code ? { code: error.code } : {}) } : undefined,
      };
    }
  }
}
