import type { TaskEnvelope } from '@nightshift/core';
import { replaceTraceContext, runInSpan, SpanKind, trace, type Attributes, type Context, type SpanContext } from '@nightshift/telemetry';

/**
 * The spans of a task's messages. One trace follows a task from its sender to its end: every publish is a
 * producer span whose context the message carries (`send`, `retry`, `dead-letter`, `requeue`), and every
 * delivery handled is a consumer span, the child of that context (`process` in the worker, `store` in the
 * alerter). So a task that fails for good reads send → process → retry → process → dead-letter → store.
 *
 * Attribute names follow OpenTelemetry's messaging and RabbitMQ conventions (semantic-conventions 1.45),
 * copied here rather than imported: they live in its `incubating` entry point, which may rename them in a
 * minor release. `nightshift.*` attributes say what the on-call asks first; a span never carries args.
 */
export const tracer = trace.getTracer('@nightshift/broker');

/** A publish or a delivery, as its span describes it. */
export interface MessageOperation {
  /** Nightshift's word for it, also the first word of the span name: `send`, `retry`, `dead-letter`, `process`, `store`, … */
  readonly name: string;
  /** OpenTelemetry's operation type: `send` for producer spans, `process` for consumer spans. */
  readonly type: 'send' | 'process';
  /** The exchange published to (RabbitMQ's destination). */
  readonly exchange: string;
  readonly routingKey: string;
  /** The broker queue a delivery was taken from (consumers only). */
  readonly queue?: string;
  readonly messageId?: string;
}

/** The messaging attributes of one operation. */
export function messagingAttributes(operation: MessageOperation): Attributes {
  return {
    'messaging.system.name': 'rabbitmq',
    'messaging.operation.type': operation.type,
    'messaging.operation.name': operation.name,
    'messaging.destination.name': operation.exchange,
    ...(operation.routingKey !== '' ? { 'rabbitmq.destination.routing_key': operation.routingKey } : {}),
    ...(operation.queue !== undefined ? { 'messaging.destination.subscription.name': operation.queue } : {}),
    ...(operation.messageId !== undefined ? { 'messaging.message.id': operation.messageId } : {}),
  };
}

/** What a span says about the task a message carries: name, id, attempt and logical queue. Never its args. */
export function taskAttributes(envelope: Pick<TaskEnvelope, 'id' | 'task' | 'attempt' | 'maxAttempts' | 'queue'>): Attributes {
  return {
    'nightshift.task': envelope.task,
    'nightshift.task.id': envelope.id,
    'nightshift.attempt': envelope.attempt,
    'nightshift.max_attempts': envelope.maxAttempts,
    'nightshift.queue': envelope.queue,
  };
}

/**
 * Runs `publish` inside a producer span named `name`, a child of `parent`, and writes the span's context into
 * `headers` in place of the one they carried: whoever consumes the message continues the trace from this
 * span. Without tracing, `headers` keep what they carried. `publish` is given the span's context; a failed
 * publish is recorded on the span.
 */
export function publishInSpan<T>(name: string, attributes: Attributes, parent: Context, headers: Record<string, unknown>, publish: (span: SpanContext) => Promise<T>): Promise<T> {
  const span = tracer.startSpan(name, { kind: SpanKind.PRODUCER, attributes }, parent);
  return runInSpan(span, parent, (inSpan) => {
    replaceTraceContext(headers, inSpan);
    return publish(span.spanContext());
  });
}
