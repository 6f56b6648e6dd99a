import type { GetMessage } from 'amqplib';
import { decode, encode } from '@nightshift/core';
import type { Broker } from './broker.ts';
import { HEADERS } from './names.ts';

/** The queues of a prefix, by what they are for. */
export type QueueKind = 'work' | 'retry' | 'dead-letters';

/** One queue of the prefix: its broker name, its kind, and for a ladder step its wait. */
export interface PrefixQueue {
  /** The broker's name (`nightshift.retry.30s`). */
  readonly name: string;
  readonly kind: QueueKind;
  /** A work queue's logical name (`default`). */
  readonly queue?: string;
  /** A ladder step's wait in milliseconds. */
  readonly stepMs?: number;
}

/** Every queue of the prefix: the work queues named, each step of the retry ladder, and the dead-letters queue. */
export function prefixQueues(broker: Broker, workQueues: readonly string[]): PrefixQueue[] {
  return [
    ...[...new Set(workQueues)].sort().map((queue) => ({ name: broker.names.queue(queue), kind: 'work' as const, queue })),
    ...broker.spec.ladderMs.map((stepMs) => ({ name: broker.names.retryQueue(stepMs), kind: 'retry' as const, stepMs })),
    { name: broker.names.deadLetters, kind: 'dead-letters' as const },
  ];
}

/** A message waiting in a queue, as read without taking it. */
export interface WaitingMessage {
  /** 1 is the head of the queue. */
  readonly position: number;
  readonly id: string | null;
  readonly task: string | null;
  /** The logical queue it goes back to (a delayed task) or came from (a dead letter). */
  readonly queue: string | null;
  readonly args: readonly unknown[] | null;
  readonly kwargs: Readonly<Record<string, unknown>> | null;
  readonly attempt: number | null;
  readonly maxAttempts: number | null;
  /** ISO 8601: when a delayed task is due to run (its `eta`); `null` when it has none. */
  readonly dueAt: string | null;
  /** Why a dead letter died (`failed`, `expired`, …). */
  readonly reason: string | null;
  readonly bytes: number;
  /** Why the body is not a task message. */
  readonly malformed: string | null;
}

/** How many messages a peek shows at most. */
export const MAX_PEEK = 200;

/** How many messages a peek or a promote reads at most, to put them back in order. */
export const PEEK_SCAN = 1000;

/**
 * Reads the first `limit` messages of a retry-ladder step or the dead-letters queue without taking them: the
 * queue is fetched (basic.get, unacknowledged) up to `PEEK_SCAN` messages and all are returned with one `nack`
 * (requeue) at the end. RabbitMQ 3.10 puts returned messages behind those never fetched, so the whole queue is
 * read to keep its order (a step holding more than `PEEK_SCAN` messages has the ones read move behind the rest,
 * and leave it up to one wait later); a message's TTL still counts from when it entered (measured). A return
 * counts as a delivery in a quorum queue: a work queue's `x-delivery-limit` would dead-letter a task peeked a
 * few times, so work queues are refused here (their waiting tasks are read from the task history instead).
 * The ladder and the dead-letters queue have no limit.
 */
export async function peekQueue(broker: Broker, queue: PrefixQueue, limit: number): Promise<WaitingMessage[]> {
  if (queue.kind === 'work') throw new RangeError(`peekQueue: ${queue.name} is a work queue; a peek would count towards its delivery limit`);
  const wanted = Math.max(0, Math.min(MAX_PEEK, Math.floor(limit)));
  return broker.withChannel(async (channel) => {
    const seen: WaitingMessage[] = [];
    try {
      for (let read = 0; read < PEEK_SCAN; read += 1) {
        const message = await channel.get(queue.name, { noAck: false });
        if (message === false) break;
        if (seen.length < wanted) seen.push(describe(message, seen.length + 1));
      }
    } finally {
      channel.nackAll(true);
    }
    return seen;
  });
}

/** The result of promoting a delayed task. */
export interface Promotion {
  readonly id: string;
  readonly task: string;
  /** The logical queue it was sent to. */
  readonly queue: string;
}

/**
 * Runs a delayed task now: finds it in a retry-ladder step (among the first `scanLimit` messages), publishes it
 * to its work queue without its `eta` (confirmed), then acks it out of the step; the messages passed over are
 * returned to the step as they were. Published before it is removed, so a crash between the two runs it twice
 * at worst (the worker's completion record then suppresses the duplicate), never loses it.
 * @returns `undefined` when the task is not among them.
 */
export async function promoteDelayed(broker: Broker, queue: PrefixQueue, taskId: string, scanLimit = PEEK_SCAN): Promise<Promotion | undefined> {
  if (queue.kind !== 'retry') throw new RangeError(`promoteDelayed: ${queue.name} is not a step of the retry ladder`);
  return broker.withChannel(async (channel) => {
    let found: GetMessage | undefined;
    try {
      // Read on past it, so that the others go back in their order (see `peekQueue`).
      for (let scanned = 0; scanned < scanLimit; scanned += 1) {
        const message = await channel.get(queue.name, { noAck: false });
        if (message === false) break;
        if (found !== undefined) continue;
        const decoded = decode(message.content);
        if (decoded.ok && decoded.envelope.id === taskId) found = message;
      }
      if (found === undefined) return undefined;
      const decoded = decode(found.content);
      if (!decoded.ok) return undefined;
      const { eta: _eta, ...envelope } = decoded.envelope;
      const { [HEADERS.step]: _step, 'x-death': _death, 'x-delivery-count': _count, ...headers } = found.properties.headers ?? {};
      await broker.ensureQueue(envelope.queue);
      await broker.publisher.publish(broker.names.tasks, envelope.queue, encode(envelope), {
        messageId: envelope.id, type: envelope.task, contentType: 'application/json', mandatory: true, headers,
      });
      channel.ack(found);
      return { id: envelope.id, task: envelope.task, queue: envelope.queue };
    } finally {
      channel.nackAll(true);
    }
  });
}

function describe(message: GetMessage, position: number): WaitingMessage {
  const headers = message.properties.headers ?? {};
  const reason = typeof headers[HEADERS.reason] === 'string' ? headers[HEADERS.reason] as string : null;
  const decoded = decode(message.content);
  if (!decoded.ok) {
    return {
      position, id: typeof message.properties.messageId === 'string' ? message.properties.messageId : null, task: null, queue: null, args: null, kwargs: null,
      attempt: null, maxAttempts: null, dueAt: null, reason, bytes: message.content.length, malformed: decoded.error.reason,
    };
  }
  const { envelope } = decoded;
  return {
    position, id: envelope.id, task: envelope.task, queue: envelope.queue, args: envelope.args, kwargs: envelope.kwargs, attempt: envelope.attempt,
    maxAttempts: envelope.maxAttempts, dueAt: envelope.eta ?? null, reason, bytes: message.content.length, malformed: null,
  };
}
