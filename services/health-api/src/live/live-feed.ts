import { parseEvents, type Broker, type LifecycleEvent, type Subscription } from '@nightshift/broker';
import { liveQueue } from '../event-queues.ts';
import type { BeatStatus } from './beat-status.ts';
import type { WorkerRegistry } from './worker-registry.ts';

export type EventListener = (events: readonly LifecycleEvent[]) => void;

/**
 * This replica's view of every event as it happens: keeps the worker registry and beat status current,
 * counts deliveries per queue (for deliver rates), and hands events to the live stream's listeners.
 */
export class LiveFeed {
  readonly #broker: Broker;
  readonly #registry: WorkerRegistry;
  readonly #beat: BeatStatus;
  readonly #listeners = new Set<EventListener>();
  readonly #received = new Map<string, number>();
  readonly #queuesSeen = new Set<string>();
  #subscription: Subscription | undefined;

  constructor(broker: Broker, registry: WorkerRegistry, beat: BeatStatus) {
    this.#broker = broker;
    this.#registry = registry;
    this.#beat = beat;
  }

  async start(): Promise<void> {
    const queue = liveQueue(this.#broker);
    this.#subscription = await this.#broker.consumeRaw(queue.name, (delivery) => {
      delivery.ack();
      this.ingest(parseEvents(delivery.message.content));
    }, { prefetch: 500, declare: queue.declare });
  }

  /** Takes events as if they had arrived from the broker. */
  ingest(events: readonly LifecycleEvent[]): void {
    if (events.length === 0) return;
    const nowMs = Date.now();
    for (const event of events) {
      this.#registry.observe(event, nowMs);
      this.#beat.observe(event, nowMs);
      const queue = typeof event.queue === 'string' ? event.queue : undefined;
      if (queue !== undefined && event.type.startsWith('task.')) {
        this.#queuesSeen.add(queue);
        if (event.type === 'task.received') this.#received.set(queue, (this.#received.get(queue) ?? 0) + 1);
      }
    }
    for (const listener of this.#listeners) {
      try {
        listener(events);
      } catch {
        // A broken stream must not stop the feed.
      }
    }
  }

  /** Calls `listener` with every batch of events until the returned function is called. */
  listen(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Deliveries per queue since the last call. */
  takeReceived(): Map<string, number> {
    const counts = new Map(this.#received);
    this.#received.clear();
    return counts;
  }

  /** Queues named by any task event seen. */
  get queuesSeen(): ReadonlySet<string> {
    return this.#queuesSeen;
  }

  async stop(): Promise<void> {
    this.#listeners.clear();
    await this.#subscription?.cancel();
  }
}
