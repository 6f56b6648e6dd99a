import type { TaskEnvelope } from '@nightshift/core';
import {
  ATTR_MESSAGING_DESTINATION_NAME, ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME, ATTR_MESSAGING_MESSAGE_ID, ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_OPERATION_TYPE, ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY, ATTR_MESSAGING_SYSTEM_NAME, ATTR_ATTEMPT,
  ATTR_DEAD_LETTER_REASON, ATTR_TASK_ERROR_TYPE, ATTR_MAX_ATTEMPTS, ATTR_QUEUE, ATTR_TASK,
  ATTR_TASK_ID, ATTR_WORKER, MESSAGING_SYSTEM_NAME_VALUE_RABBITMQ,
  isSpanContextValid, replaceTraceContext, runInSpan, SpanKind, trace, writeSpanContext, type Attributes, type Context, type SpanContext,
} from '@nightshift/telemetry';

/**
 * The spans of a task's messages. One trace follows a task from its sender to its end: every publish is a
 * producer span whose context the message carries (`send`, `retry`, `dead-letter`, `requeue`), and every
 * delivery handled is a consumer span, the child of that context (`process` in the worker, `store` in the
 * alerter). So a task that fails for good reads send → process → retry → process → dead-letter → store.
 *
 * Attribute names follow OpenTelemetry's messaging and RabbitMQ conventions; every name is spelled once, in
 * `@nightshift/telemetry`'s semconv. A span never carries args.
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
    [ATTR_MESSAGING_SYSTEM_NAME]: MESSAGING_SYSTEM_NAME_VALUE_RABBITMQ,
    [ATTR_MESSAGING_OPERATION_TYPE]: operation.type,
    [ATTR_MESSAGING_OPERATION_NAME]: operation.name,
    [ATTR_MESSAGING_DESTINATION_NAME]: operation.exchange,
    ...(operation.routingKey !== '' ? { [ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY]: operation.routingKey } : {}),
    ...(operation.queue !== undefined ? { [ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME]: operation.queue } : {}),
    ...(operation.messageId !== undefined ? { [ATTR_MESSAGING_MESSAGE_ID]: operation.messageId } : {}),
  };
}

/** What a span says about the task a message carries: name, id, attempt and logical queue. Never its args. */
export function taskAttributes(envelope: Pick<TaskEnvelope, 'id' | 'task' | 'attempt' | 'maxAttempts' | 'queue'>): Attributes {
  return {
    [ATTR_TASK]: envelope.task,
    [ATTR_TASK_ID]: envelope.id,
    [ATTR_ATTEMPT]: envelope.attempt,
    [ATTR_MAX_ATTEMPTS]: envelope.maxAttempts,
    [ATTR_QUEUE]: envelope.queue,
  };
}

/**
 * The attributes of a producer span publishing a task message to its queue (`send`, a dead letter's `requeue`): the messaging
 * attributes of `messagingAttributes` and the task's of `taskAttributes`, built as one object, as every send does.
 */
export function taskPublishAttributes(name: string, exchange: string, envelope: Pick<TaskEnvelope, 'id' | 'task' | 'attempt' | 'maxAttempts' | 'queue'>): Attributes {
  return {
    [ATTR_MESSAGING_SYSTEM_NAME]: MESSAGING_SYSTEM_NAME_VALUE_RABBITMQ,
    [ATTR_MESSAGING_OPERATION_TYPE]: 'send',
    [ATTR_MESSAGING_OPERATION_NAME]: name,
    [ATTR_MESSAGING_DESTINATION_NAME]: exchange,
    // A queue name is never empty, so the routing key is always said.
    [ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY]: envelope.queue,
    [ATTR_MESSAGING_MESSAGE_ID]: envelope.id,
    [ATTR_TASK]: envelope.task,
    [ATTR_TASK_ID]: envelope.id,
    [ATTR_ATTEMPT]: envelope.attempt,
    [ATTR_MAX_ATTEMPTS]: envelope.maxAttempts,
    [ATTR_QUEUE]: envelope.queue,
  };
}

/** A dead letter as its spans describe it; each field is what could be read of it (a malformed message has little). */
export interface DeadLetterSpanFields {
  readonly task?: string | undefined;
  readonly messageId?: string | undefined;
  /** Attempts made before it died. */
  readonly attempts?: number | undefined;
  /** The logical queue it was taken from. */
  readonly queue?: string | undefined;
  readonly worker?: string | undefined;
  readonly reason: string;
  /** The class of the error it died of. */
  readonly errorType?: string | undefined;
}

/**
 * What a span says about a dead letter: the same on the worker's `dead-letter` span and the alerter's `store`
 * span, so the two ends of its trace read alike.
 */
export function deadLetterAttributes(letter: DeadLetterSpanFields): Attributes {
  return {
    ...(letter.task ? { [ATTR_TASK]: letter.task } : {}),
    ...(letter.messageId ? { [ATTR_TASK_ID]: letter.messageId } : {}),
    ...(letter.attempts !== undefined ? { [ATTR_ATTEMPT]: letter.attempts } : {}),
    ...(letter.queue ? { [ATTR_QUEUE]: letter.queue } : {}),
    ...(letter.worker ? { [ATTR_WORKER]: letter.worker } : {}),
    [ATTR_DEAD_LETTER_REASON]: letter.reason,
    ...(letter.errorType ? { [ATTR_TASK_ERROR_TYPE]: letter.errorType } : {}),
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
  const spanContext = span.spanContext();
  // No tracer registered and no trace to continue: OpenTelemetry's no-op span records nothing and carries no
  // context (all zeros), so there is nothing to activate, write into the headers or end (that was about a
  // twentieth of a send's own time with tracing off, and an async frame more on its way to the confirm).
  if (!span.isRecording()) {
    if (!isSpanContextValid(spanContext)) return publish(spanContext);
    // Ids only (nothing exports): nothing records under the span, so it is not made active (an async frame less on
    // each send's way to its confirm); its ids go into the headers, for a consumer that exports to continue.
    writeSpanContext(headers, spanContext);
    return publish(spanContext);
  }
  return runInSpan(span, parent, (inSpan) => {
    replaceTraceContext(headers, inSpan);
    return publish(span.spanContext());
  });
}
