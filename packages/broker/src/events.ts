import type { ConfirmChannel } from 'amqplib';
import type { Broker } from './broker.ts';

/**
 * Lifecycle event types; each is also the routing key on the `events` topic exchange (`task.*`, `worker.*`, `beat.*`).
 * `beat.dispatched`: a fire time of a schedule entry was sent (by beat, a run now or a backfill: `origin`, `by`);
 * `beat.missed`: fire times that were not sent, and why (`reason`, `count` of them from `scheduledFor` through `through`).
 * `task.logged`: what an attempt wrote through `ctx.log` (`lines`, `dropped`), sent just before its outcome;
 * `task.progress`: a running attempt's latest `ctx.progress` report (`fraction`, `message`).
 */
export type EventType =
  | 'task.sent' | 'task.received' | 'task.started' | 'task.succeeded' | 'task.failed' | 'task.retried'
  | 'task.dead-lettered' | 'task.revoked' | 'task.duplicate-suppressed' | 'task.logged' | 'task.progress'
  | 'worker.online' | 'worker.heartbeat' | 'worker.offline'
  | 'beat.dispatched' | 'beat.missed';

/** An event as it travels: `type`, the time it happened, and the fields of that type. */
export interface LifecycleEvent {
  readonly type: EventType;
  /** ISO 8601. */
  readonly at: string;
  readonly [field: string]: unknown;
}

/**
 * Sends lifecycle events on a channel of their own without waiting for the broker's confirms: they are
 * transient, for dashboards and metrics, never part of a task's outcome, and at three or more per task they
 * must cost little. The channel is in confirm mode all the same, so that `close` waits for the last events
 * (a worker's final ones at shutdown) to be taken: without confirms, a message published just before its
 * channel closed was seen lost (2 in 2,800, to a quorum queue, on a loaded machine). Events
 * are grouped by type and flushed every `flushMs` as one message holding a JSON array (Celery's event
 * dispatcher groups the same way), so the broker routes a few messages per tick instead of one per event.
 * While no channel is open (a reconnect) events are held and sent once one is, so an attempt that finishes during a
 * connection blip still says so; beyond `MAX_HELD_EVENTS` held they are dropped and counted, never queued without bound.
 */
/** Events held while no channel is open, at most: about 10 MB, several seconds of a busy worker's events. */
const MAX_HELD_EVENTS = 10_000;

export class EventPublisher {
  readonly #broker: Broker;
  readonly #flushMs: number;
  /** Events waiting to be sent, by type, each already written as JSON. */
  readonly #buffer = new Map<EventType, string[]>();
  /** Events in `#buffer`. */
  #buffered = 0;
  #timer: NodeJS.Timeout | undefined;
  #channel: ConfirmChannel | undefined;
  #opening: Promise<void> | undefined;
  /** Events dropped: more than `MAX_HELD_EVENTS` were waiting for a channel, or one could not be written as JSON. */
  dropped = 0;

  /** @param flushMs how long an event may wait to be sent with others of its type. Default: `20`. */
  constructor(broker: Broker, flushMs = 20) {
    this.#broker = broker;
    this.#flushMs = flushMs;
  }

  /** Sends an event of `type` with `fields`, at the time given in `fields.at` or now. */
  publish(type: EventType, fields: Record<string, unknown>): void {
    this.#add(type, { type, at: typeof fields.at === 'string' ? fields.at : new Date().toISOString(), ...fields });
  }

  #add(type: EventType, event: LifecycleEvent): void {
    let json: string;
    try {
      json = JSON.stringify(event);
    } catch {
      // Fields JSON cannot hold (a BigInt, a cycle): the event is lost, never the caller's work.
      this.dropped += 1;
      return;
    }
    this.addJson(type, json);
  }

  /**
   * Sends an event already written as JSON: an object with `type` (this `type`) and `at`, as `LifecycleEvent`.
   * For a hot path whose event repeats JSON it has written anyway (`task.sent`, on every send).
   */
  addJson(type: EventType, json: string): void {
    if (this.#buffered >= MAX_HELD_EVENTS) {
      this.dropped += 1;
      return;
    }
    this.#buffered += 1;
    const group = this.#buffer.get(type);
    if (group) group.push(json);
    else this.#buffer.set(type, [json]);
    this.#timer ??= setTimeout(() => this.flush(), this.#flushMs);
  }

  /** Sends what is buffered now; without an open channel it stays buffered until one opens. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const channel = this.#channel;
    if (!channel) {
      this.#open();
      return;
    }
    for (const [type, events] of this.#buffer) {
      try {
        channel.publish(this.#broker.names.events, type, Buffer.from(`[${events.join(',')}]`), { persistent: false, contentType: 'application/json', type });
      } catch {
        // A channel closed under it (its connection lost): these and the rest wait for the next channel.
        this.#channel = undefined;
        break;
      }
      this.#buffer.delete(type);
      this.#buffered -= events.length;
    }
    if (!this.#channel) this.#open();
  }

  /** Opens the channel now, so the first events are not dropped. */
  async ready(): Promise<void> {
    this.#open();
    await this.#opening;
  }

  /** Flushes what is buffered, waits until the broker has taken it, and closes the channel. */
  async close(): Promise<void> {
    this.flush();
    const channel = this.#channel;
    this.#channel = undefined;
    await channel?.waitForConfirms().catch(() => {});
    await channel?.close().catch(() => {});
  }

  #open(): void {
    if (this.#opening || this.#broker.closed) return;
    this.#opening = this.#broker.createConfirmChannel().then(
      (channel) => {
        channel.on('error', () => {});
        channel.on('close', () => {
          if (this.#channel === channel) this.#channel = undefined;
        });
        this.#channel = channel;
        // What waited for this channel (a reconnect) goes now.
        if (this.#buffered > 0) this.flush();
      },
      () => {},
    ).finally(() => {
      this.#opening = undefined;
    });
  }
}

/**
 * Publishes one event through the confirmed publisher and resolves once the broker has it. For rare events
 * whose arrival matters more than their cost (e.g. a worker going offline); a failure is logged, never thrown.
 */
export function publishEvent(broker: Broker, type: EventType, fields: Record<string, unknown>): Promise<void> {
  const event: LifecycleEvent = { type, at: new Date().toISOString(), ...fields };
  return broker.publisher
    .publish(broker.names.events, type, Buffer.from(JSON.stringify(event)), { persistent: false, contentType: 'application/json', type })
    .catch((error: unknown) => broker.log.warn({ err: { message: (error as Error).message }, type }, 'could not publish a lifecycle event'));
}

/** Reads an event message: one event, or a batch of events of one type. Anything else gives `[]`. */
export function parseEvents(content: Buffer): LifecycleEvent[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(content.toString('utf8'));
  } catch {
    return [];
  }
  return (Array.isArray(parsed) ? parsed : [parsed]).filter(isEvent);
}

function isEvent(value: unknown): value is LifecycleEvent {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Record<string, unknown>;
  return typeof event.type === 'string' && typeof event.at === 'string';
}
