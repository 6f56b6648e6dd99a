import type { Broker } from './broker.ts';

/** Lifecycle event types; each is also the routing key on the `events` topic exchange (`task.*`, `worker.*`). */
export type EventType =
  | 'task.sent' | 'task.received' | 'task.started' | 'task.succeeded' | 'task.failed' | 'task.retried'
  | 'task.dead-lettered' | 'task.revoked'
  | 'worker.online' | 'worker.heartbeat' | 'worker.offline'
  | 'beat.dispatched';

/** An event as it travels: `type`, the time it happened, and the fields of that type. */
export interface LifecycleEvent {
  readonly type: EventType;
  /** ISO 8601. */
  readonly at: string;
  readonly [field: string]: unknown;
}

/**
 * Publishes a lifecycle event: transient (not persisted), not mandatory (nobody may be listening),
 * confirmed like every publish. Events are for dashboards and metrics, never for the task's outcome:
 * a failure to publish one is logged and swallowed, and the returned promise never rejects.
 */
export function publishEvent(broker: Broker, type: EventType, fields: Record<string, unknown>): Promise<void> {
  const event: LifecycleEvent = { type, at: new Date().toISOString(), ...fields };
  return broker.publisher
    .publish(broker.names.events, type, Buffer.from(JSON.stringify(event)), { persistent: false, contentType: 'application/json', type })
    .catch((error: unknown) => broker.log.warn({ err: { message: (error as Error).message }, type }, 'could not publish a lifecycle event'));
}

/** Reads an event body; `undefined` for anything that is not one. */
export function parseEvent(content: Buffer): LifecycleEvent | undefined {
  try {
    const parsed: unknown = JSON.parse(content.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const event = parsed as Record<string, unknown>;
    return typeof event.type === 'string' && typeof event.at === 'string' ? (event as LifecycleEvent) : undefined;
  } catch {
    return undefined;
  }
}
