import type { Message } from 'amqplib';
import type { SerializedError } from '@nightshift/core';
import { context, extractTraceContext, trace, type Attributes } from '@nightshift/telemetry';
import type { Broker } from './broker.ts';
import { deadLetterAttributes, messagingAttributes, publishInSpan } from './message-spans.ts';
import { HEADERS } from './names.ts';

/**
 * Why a message is dead. Nightshift's own reasons: `failed` (retries exhausted, a permanent error, or an
 * error `retryOn` does not match; the error says which), `unknown_task`, `malformed`, `expired`; and the
 * broker's, read from `x-death` when the broker dead-lettered it: `rejected`, `delivery_limit`, `maxlen`.
 */
export type DeadLetterReason =
  | 'failed' | 'unknown_task' | 'malformed' | 'expired'
  | 'rejected' | 'delivery_limit' | 'maxlen' | (string & {});

export interface DeadLetterInfo {
  readonly reason: DeadLetterReason;
  /** A sentence for people, e.g. the decode error. */
  readonly detail?: string;
  readonly error?: SerializedError;
  readonly worker?: string;
  /** The work queue the message was taken from. */
  readonly originalQueue?: string;
  /** Attempts made before it died. */
  readonly attempts?: number;
  /** ISO 8601: the first failed attempt. */
  readonly firstFailedAt?: string;
  /** ISO 8601: when it was dead-lettered (set by `publishDeadLetter`, read back by `readDeadLetter`). */
  readonly deadAt?: string;
}

/**
 * Publishes a copy of `message` to `dlx` with why it died, and resolves once confirmed. The caller acks the
 * original only after this resolves, so a crash in between delivers it again rather than losing it.
 *
 * The publish is a `dead-letter <task>` producer span, a child of the active span (the final attempt's
 * `process` span) or, for a message dead-lettered before any attempt (malformed, expired), of the context
 * the message carried. The copy carries the dead-letter span's context, so the alerter continues from it.
 */
export async function publishDeadLetter(broker: Broker, message: Message, info: DeadLetterInfo): Promise<void> {
  const headers: Record<string, unknown> = {
    ...(message.properties.headers ?? {}),
    [HEADERS.reason]: info.reason,
    [HEADERS.deadAt]: new Date().toISOString(),
  };
  if (info.originalQueue ?? message.fields.routingKey) headers[HEADERS.originalQueue] = info.originalQueue ?? message.fields.routingKey;
  if (info.worker) headers[HEADERS.worker] = info.worker;
  if (info.attempts !== undefined) headers[HEADERS.attempts] = info.attempts;
  if (info.firstFailedAt) headers[HEADERS.firstFailedAt] = info.firstFailedAt;
  if (info.error || info.detail) headers[HEADERS.error] = JSON.stringify({ detail: info.detail, ...info.error });
  const { headers: _ignored, ...properties } = message.properties;
  const task = typeof properties.type === 'string' && properties.type !== '' ? properties.type : undefined;
  const parent = trace.getSpan(context.active()) ? context.active() : extractTraceContext(message.properties.headers);
  await publishInSpan(`dead-letter ${task ?? message.fields.routingKey}`, deadLetterSpanAttributes(broker, message, info, task), parent, headers, () =>
    broker.publisher.publish(broker.names.dlx, message.fields.routingKey, message.content, {
      ...stripUndefined(properties),
      persistent: true,
      mandatory: true,
      headers,
    }));
}

function deadLetterSpanAttributes(broker: Broker, message: Message, info: DeadLetterInfo, task: string | undefined): Attributes {
  const messageId = typeof message.properties.messageId === 'string' ? message.properties.messageId : undefined;
  return {
    ...messagingAttributes({ name: 'dead-letter', type: 'send', exchange: broker.names.dlx, routingKey: message.fields.routingKey, ...(messageId ? { messageId } : {}) }),
    ...deadLetterAttributes({ task, messageId, attempts: info.attempts, queue: info.originalQueue, worker: info.worker, reason: info.reason, errorType: info.error?.name }),
  };
}

/** Reads why a message in `dead-letters` died, whoever dead-lettered it. */
export function readDeadLetter(message: Message): DeadLetterInfo {
  const headers = message.properties.headers ?? {};
  const own = headers[HEADERS.reason];
  if (typeof own === 'string') {
    const error = parseJson(headers[HEADERS.error]);
    return {
      reason: own,
      ...(typeof error?.detail === 'string' ? { detail: error.detail } : {}),
      ...(error && typeof error.name === 'string' ? { error: error as unknown as SerializedError } : {}),
      ...(typeof headers[HEADERS.worker] === 'string' ? { worker: headers[HEADERS.worker] } : {}),
      ...(typeof headers[HEADERS.originalQueue] === 'string' ? { originalQueue: headers[HEADERS.originalQueue] } : {}),
      ...(typeof headers[HEADERS.attempts] === 'number' ? { attempts: headers[HEADERS.attempts] } : {}),
      ...(typeof headers[HEADERS.firstFailedAt] === 'string' ? { firstFailedAt: headers[HEADERS.firstFailedAt] } : {}),
      ...(typeof headers[HEADERS.deadAt] === 'string' ? { deadAt: headers[HEADERS.deadAt] } : {}),
    };
  }
  const death = Array.isArray(headers['x-death']) ? (headers['x-death'][0] as Record<string, unknown> | undefined) : undefined;
  return {
    reason: typeof death?.reason === 'string' ? death.reason : 'unknown',
    ...(typeof death?.queue === 'string' ? { originalQueue: death.queue } : {}),
  };
}

function parseJson(value: unknown): Record<string, unknown> | undefined {
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  if (typeof text !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
