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

/** A task's first failed attempt that is retried: what failed, and when the next attempt is due. */
export interface RetriedOutcome {
  readonly status: 'retried';
  readonly id: string;
  /** The attempt that failed (1 for the first). */
  readonly attempt: number;
  readonly nextAttempt: number;
  /** How long the retry waits before the next attempt. */
  readonly delayMs: number;
  readonly error: { readonly name: string; readonly message: string; readonly code?: string } | undefined;
  readonly events: readonly LifecycleEvent[];
}

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
    return this.#waitFor(id, (e) => FINAL.has(e.type), timeoutMs, 'did not finish', (final, events) => toOutcome(id, final, events));
  }

  /** Resolves at the task's first retry (without waiting for the retry itself); rejects when it ends without one, or after `timeoutMs`. */
  async retried(id: string, timeoutMs: number): Promise<RetriedOutcome> {
    const first = await this.#waitFor(id, (e) => e.type === 'task.retried' || FINAL.has(e.type), timeoutMs, 'was not retried', (event, events) => ({ event, events }));
    const { event, events } = first;
    if (event.type !== 'task.retried') {
      const outcome = toOutcome(id, event, events);
      const why = outcome.status === 'dead-lettered' ? `dead-lettered (${outcome.reason}${outcome.error ? `: ${outcome.error.name}: ${outcome.error.message}` : ''})` : outcome.status;
      throw new Error(`task ${id} was not retried: it ended ${why} after ${outcome.attempts} attempt(s); a PermanentError, or an error its retryOn does not match, is never retried`);
    }
    return {
      status: 'retried', id, attempt: Number(event.attempt), nextAttempt: Number(event.nextAttempt), delayMs: Number(event.delayMs),
      error: errorOf(event), events,
    };
  }

  #waitFor<T>(id: string, matches: (event: LifecycleEvent) => boolean, timeoutMs: number, failure: string, answer: (event: LifecycleEvent, events: LifecycleEvent[]) => T): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.events.find((e) => e.id === id && matches(e));
        if (!found) return;
        done();
        resolve(answer(found, this.events.filter((e) => e.id === id)));
      };
      const timer = setTimeout(() => {
        done();
        const seen = this.events.filter((e) => e.id === id).map((e) => e.type);
        const hint = seen.length <= 1 ? '; is a worker running on its queue?' : '';
        reject(new Error(`task ${id} ${failure} within ${timeoutMs}ms (seen: ${seen.join(' → ') || 'nothing'})${hint}`));
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

function errorOf(event: LifecycleEvent): { name: string; message: string; code?: string } | undefined {
  const error = event.error as { name: string; message: string; code?: string } | undefined;
  return error ? { name: error.name, message: error.message, ...(error.code ? { code: error.code } : {}) } : undefined;
}

function toOutcome(id: string, final: LifecycleEvent, events: LifecycleEvent[]): TaskOutcome {
  const attempts = events.filter((e) => e.type === 'task.started').length;
  switch (final.type) {
    case 'task.succeeded':
      return { status: 'succeeded', id, result: final.result, attempts, events };
    case 'task.revoked':
      return { status: 'revoked', id, attempts, events };
    default:
      return { status: 'dead-lettered', id, reason: String(final.reason), attempts, events, error: errorOf(final) };
  }
}
