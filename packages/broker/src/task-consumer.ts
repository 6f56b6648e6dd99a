import { decode, type TaskEnvelope } from '@nightshift/core';
import { ATTR_DELIVERY_COUNT, extractTraceContext, runInSpan, SpanKind, type Context } from '@nightshift/telemetry';
import type { Broker } from './broker.ts';
import { publishDeadLetter } from './dead-letter.ts';
import { ETA_TOLERANCE_MS, park } from './ladder.ts';
import { messagingAttributes, taskAttributes, tracer } from './message-spans.ts';
import type { Delivery, Subscription, SubscriptionOptions } from './subscription.ts';

/** A decoded task message, due now, handed to a task handler. */
export interface ReceivedTask {
  readonly envelope: TaskEnvelope;
  readonly delivery: Delivery;
  /** Deliveries of this message so far, counted by the broker (1 on the first). */
  readonly deliveryCount: number;
  /** The AMQP `redelivered` flag: the broker delivered this message before (to this consumer or another). */
  readonly redelivered: boolean;
  /** The sender's trace context, from the message headers. */
  readonly traceContext: Context;
}

/** Must settle `task.delivery` (ack after the outcome is durable). Runs inside a `process <task>` span. */
export type TaskHandler = (task: ReceivedTask) => Promise<void>;

/** A message this consumer dead-lettered before any handler saw it. */
export interface EarlyDeadLetter {
  readonly reason: 'malformed' | 'expired';
  readonly detail: string;
  readonly messageId: string | undefined;
  /** The envelope, when it could be read (expired messages). */
  readonly envelope: TaskEnvelope | undefined;
}

export interface ConsumeTasksOptions extends SubscriptionOptions {
  /** Named in dead letters this consumer makes. */
  worker?: string;
  /** Told of each message dead-lettered before the handler (for events and metrics); must not throw. */
  onDeadLetter?: (deadLetter: EarlyDeadLetter) => void;
  /** The clock; tests move it. Default: `Date.now`. */
  now?: () => number;
}

/**
 * Consumes a work queue and hands on only what can run now. Before the handler sees a message:
 * a malformed one is dead-lettered with its reason; one whose `eta` is still ahead goes back to the ladder;
 * one past its `expires` is dead-lettered as `expired`. Each is acked only after that publish is confirmed.
 */
export function consumeTasks(broker: Broker, queue: string, handler: TaskHandler, options: ConsumeTasksOptions = {}): Promise<Subscription> {
  const now = options.now ?? Date.now;
  const worker = options.worker;
  return broker.consume(queue, async (delivery) => {
    const { message } = delivery;
    const headers = message.properties.headers ?? {};
    const decoded = decode(message.content);
    if (!decoded.ok) {
      broker.log.warn({ queue, reason: decoded.error.reason, ...decoded.partial }, 'dead-lettering a malformed message');
      await publishDeadLetter(broker, message, { reason: 'malformed', detail: decoded.error.reason, originalQueue: queue, ...(worker ? { worker } : {}) });
      delivery.ack();
      options.onDeadLetter?.({ reason: 'malformed', detail: decoded.error.reason, messageId: message.properties.messageId as string | undefined, envelope: undefined });
      return;
    }
    const { envelope } = decoded;
    const at = now();
    if (envelope.expires !== undefined && Date.parse(envelope.expires) <= at) {
      const detail = `expired at ${envelope.expires}, received at ${new Date(at).toISOString()}`;
      await publishDeadLetter(broker, message, { reason: 'expired', detail, originalQueue: queue, ...(worker ? { worker } : {}) });
      delivery.ack();
      options.onDeadLetter?.({ reason: 'expired', detail, messageId: envelope.id, envelope });
      return;
    }
    if (envelope.eta !== undefined && Date.parse(envelope.eta) - at > ETA_TOLERANCE_MS) {
      await park(broker, envelope, headers, at);
      delivery.ack();
      return;
    }
    const traceContext = extractTraceContext(headers);
    const operation = {
      name: 'process', type: 'process', exchange: message.fields.exchange, routingKey: message.fields.routingKey,
      queue: broker.names.queue(queue), messageId: envelope.id,
    } as const;
    const deliveryCount = Number(headers['x-delivery-count'] ?? 0) + 1;
    const span = tracer.startSpan(`process ${envelope.task}`, {
      kind: SpanKind.CONSUMER,
      attributes: { ...messagingAttributes(operation), ...taskAttributes(envelope), [ATTR_DELIVERY_COUNT]: deliveryCount },
    }, traceContext);
    await runInSpan(span, traceContext, () => handler({ envelope, delivery, deliveryCount, redelivered: message.fields.redelivered, traceContext }));
  }, options);
}
