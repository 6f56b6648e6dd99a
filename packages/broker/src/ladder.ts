import { encode, type TaskEnvelope } from '@nightshift/core';
import {
  ATTR_TASK_ERROR_TYPE, ATTR_RETRY_DELAY_MS, ATTR_RETRY_NEXT_ATTEMPT, context, injectTraceContext,
} from '@nightshift/telemetry';
import type { Broker } from './broker.ts';
import { messagingAttributes, publishInSpan, taskAttributes } from './message-spans.ts';
import { HEADERS, stepLabel } from './names.ts';

/** Remaining waits at or below this run at once rather than take another trip through the ladder. */
export const ETA_TOLERANCE_MS = 50;

/**
 * The ladder step for a wait: the longest step that does not overshoot it, or the shortest step when the wait
 * is shorter than every step. A long wait takes several trips, each choosing again for what remains.
 */
export function ladderStep(ladderMs: readonly number[], delayMs: number): number {
  let chosen = ladderMs[0];
  if (chosen === undefined) throw new RangeError('the retry ladder has no steps');
  for (const step of ladderMs) if (step <= delayMs) chosen = step;
  return chosen;
}

/**
 * Parks a task in the retry ladder until its `eta`: it waits in a TTL queue and then dead-letters back to
 * `tasks` under its queue's routing key. Resolves once the broker has confirmed it.
 */
export async function park(broker: Broker, envelope: TaskEnvelope, headers: Record<string, unknown> = {}, now = Date.now()): Promise<number> {
  const remaining = Math.max(0, Date.parse(envelope.eta ?? '') - now || 0);
  const step = ladderStep(broker.spec.ladderMs, remaining);
  const outgoing: Record<string, unknown> = { ...stripRouting(headers), [HEADERS.step]: stepLabel(step) };
  if (outgoing.traceparent === undefined) injectTraceContext(outgoing);
  await broker.ensureQueue(envelope.queue);
  await broker.publisher.publish(broker.names.retry, envelope.queue, encode(envelope), {
    messageId: envelope.id,
    type: envelope.task,
    contentType: 'application/json',
    mandatory: true,
    headers: outgoing,
  });
  return step;
}

/** Why a failed attempt runs again, and when. */
export interface RetryPlan {
  /** How long the next attempt waits. */
  readonly delayMs: number;
  /** The class of the error that failed the attempt. */
  readonly errorType: string;
}

/**
 * Schedules `next` (the envelope of the next attempt, `eta` set) through the ladder inside a `retry <task>`
 * producer span, a child of the active span (the failed attempt's `process` span). The message carries the
 * retry span's context instead of the sender's, so the next attempt's `process` span is the retry's child and
 * the trace reads send → attempt 1 → retry → attempt 2. Resolves with the ladder step once confirmed.
 */
export function scheduleRetry(broker: Broker, next: TaskEnvelope, headers: Record<string, unknown>, plan: RetryPlan): Promise<number> {
  const outgoing = { ...headers };
  const failed = { ...next, attempt: next.attempt - 1 };
  const attributes = {
    ...messagingAttributes({ name: 'retry', type: 'send', exchange: broker.names.retry, routingKey: next.queue, messageId: next.id }),
    ...taskAttributes(failed),
    [ATTR_RETRY_NEXT_ATTEMPT]: next.attempt,
    [ATTR_RETRY_DELAY_MS]: plan.delayMs,
    [ATTR_TASK_ERROR_TYPE]: plan.errorType,
  };
  return publishInSpan(`retry ${next.task}`, attributes, context.active(), outgoing, () => park(broker, next, outgoing));
}

// x-death grows with every trip; the broker keeps counting in it, so only routing headers are replaced.
function stripRouting(headers: Record<string, unknown>): Record<string, unknown> {
  const { [HEADERS.step]: _step, ...rest } = headers;
  return rest;
}
