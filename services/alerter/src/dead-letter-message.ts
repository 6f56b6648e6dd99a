import type { Message } from 'amqplib';
import { decode } from '@nightshift/core';
import { readDeadLetter } from '@nightshift/broker';
import type { DeadLetterInput } from '@nightshift/store';
import { extractTraceContext, trace, traceIdOf } from '@nightshift/telemetry';

/**
 * Reads a message from the dead-letters queue into what the store keeps, whoever dead-lettered it: the
 * worker (reason, error, attempts in `x-nightshift-*` headers) or the broker (`x-death`). A body that is not
 * a task envelope is kept as it is, with what could be read of its id and task.
 */
export function readDeadLetterMessage(message: Message, now = new Date()): DeadLetterInput {
  const info = readDeadLetter(message);
  const headers = message.properties.headers ?? {};
  const decoded = decode(message.content);
  const envelope = decoded.ok ? decoded.envelope : undefined;
  const partial = decoded.ok ? {} : decoded.partial;
  const death = firstDeath(headers);
  const deadAt = info.deadAt ?? timeOf(death?.time) ?? now.toISOString();
  const { headers: _headers, ...properties } = message.properties;
  const messageId = envelope?.id ?? partial.id ?? stringOf(message.properties.messageId);
  const task = envelope?.task ?? partial.task ?? stringOf(message.properties.type);
  const queue = envelope?.queue ?? info.originalQueue;
  const attempts = info.attempts ?? (info.reason === 'delivery_limit' ? numberOf(headers['x-delivery-count']) : undefined) ?? envelope?.attempt;
  const traceId = traceIdOf(trace.getSpanContext(extractTraceContext(headers)));
  return {
    ...(messageId !== undefined ? { messageId } : {}),
    deathMark: info.deadAt ?? (death ? `x-death:${String(death.queue)}:${String(death.reason)}:${String(death.count)}:${timeOf(death.time) ?? ''}` : `received:${deadAt}`),
    ...(task !== undefined ? { task } : {}),
    ...(queue !== undefined ? { queue } : {}),
    ...(envelope ? { args: envelope.args, kwargs: envelope.kwargs } : {}),
    reason: info.reason,
    ...(info.detail !== undefined ? { detail: info.detail } : !decoded.ok ? { detail: decoded.error.reason } : {}),
    ...(info.error !== undefined ? { error: info.error } : {}),
    ...(attempts !== undefined ? { attempts } : {}),
    ...(info.worker !== undefined ? { worker: info.worker } : {}),
    ...(info.firstFailedAt !== undefined ? { firstFailedAt: info.firstFailedAt } : {}),
    lastFailedAt: deadAt,
    ...(traceId !== undefined ? { traceId } : {}),
    ...(envelope?.origin.type === 'replay' ? { replayOf: envelope.origin.deadLetterId } : {}),
    headers,
    properties: Object.fromEntries(Object.entries(properties).filter(([, v]) => v !== undefined)),
    body: message.content,
  };
}

function firstDeath(headers: Record<string, unknown>): Record<string, unknown> | undefined {
  const deaths = headers['x-death'];
  return Array.isArray(deaths) && typeof deaths[0] === 'object' && deaths[0] !== null ? (deaths[0] as Record<string, unknown>) : undefined;
}

// amqplib reads AMQP timestamps as seconds (a number), some clients send Dates.
function timeOf(value: unknown): string | undefined {
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'number' && Number.isFinite(value)) return new Date(value < 1e12 ? value * 1000 : value).toISOString();
  if (typeof value === 'object' && value !== null && typeof (value as { value?: unknown }).value === 'number') return timeOf((value as { value: number }).value);
  return undefined;
}

function stringOf(value: unknown): string | undefined {
  if (typeof value === 'string' && value !== '') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

function numberOf(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The schedule entry a dead task message was a run of (sent by beat, a run now or a backfill), or `undefined`. */
export function scheduleEntryOf(message: Message): string | undefined {
  const decoded = decode(message.content);
  if (!decoded.ok) return undefined;
  const { origin } = decoded.envelope;
  return origin.type === 'beat' || origin.type === 'manual' || origin.type === 'backfill' ? origin.beat : undefined;
}
