import { createHash } from 'node:crypto';
import { BadParameterError, decode, type SerializedError } from '@nightshift/core';

/** Where a dead letter stands in review: waiting for a person, sent again, or set aside on purpose. */
export type DeadLetterStatus = 'pending' | 'requeued' | 'ignored';

export const DEAD_LETTER_STATUSES: readonly DeadLetterStatus[] = Object.freeze(['pending', 'requeued', 'ignored']);

/**
 * A dead letter as the alerter reads it off the dead-letters queue, ready to store. Everything but
 * `reason`, `deathMark`, `lastFailedAt` and the raw message may be missing (a malformed body has no task).
 */
export interface DeadLetterInput {
  /** The task message id (envelope id, else the AMQP message id). */
  readonly messageId?: string;
  /**
   * What tells this death apart from another death of the same message when the body is not a task message
   * (a task message is told apart by its id and attempt, see `deadLetterIdentity`): the time Nightshift
   * dead-lettered it, or the broker's `x-death` entry. Redeliveries of one dead letter carry the same mark.
   */
  readonly deathMark: string;
  readonly task?: string;
  /** The logical queue (`reports`), or the broker's queue name when only that is known. */
  readonly queue?: string;
  readonly args?: readonly unknown[];
  readonly kwargs?: Readonly<Record<string, unknown>>;
  /** `failed`, `rejected`, `delivery_limit`, `expired`, `unknown_task`, `malformed`, `maxlen` or the broker's word. */
  readonly reason: string;
  /** A sentence for people, e.g. the decode error of a malformed message. */
  readonly detail?: string;
  readonly error?: SerializedError;
  readonly attempts?: number;
  readonly worker?: string;
  /** ISO 8601. */
  readonly firstFailedAt?: string;
  /** ISO 8601: when it was dead-lettered. */
  readonly lastFailedAt: string;
  readonly traceId?: string;
  /** The dead letter this message was a replay of, when a requeued task died again. */
  readonly replayOf?: string;
  readonly headers: Readonly<Record<string, unknown>>;
  /** AMQP properties other than headers (messageId, contentType, …). */
  readonly properties: Readonly<Record<string, unknown>>;
  readonly body: Buffer;
}

/** A stored dead letter, as listed. Ids are decimal strings (PostgreSQL `bigint`). */
export interface DeadLetterSummary {
  readonly id: string;
  readonly messageId: string | null;
  readonly task: string | null;
  readonly queue: string | null;
  readonly reason: string;
  readonly errorClass: string | null;
  readonly errorMessage: string | null;
  readonly attempts: number | null;
  /** ISO 8601. */
  readonly lastFailedAt: string;
  readonly status: DeadLetterStatus;
}

/** A stored dead letter with everything kept about it. */
export interface DeadLetter extends DeadLetterSummary {
  readonly args: unknown[] | null;
  readonly kwargs: Record<string, unknown> | null;
  readonly detail: string | null;
  readonly errorCode: string | null;
  readonly errorStack: string | null;
  readonly error: SerializedError | null;
  readonly worker: string | null;
  readonly firstFailedAt: string | null;
  readonly traceId: string | null;
  readonly replayOf: string | null;
  readonly headers: Record<string, unknown>;
  readonly properties: Record<string, unknown>;
  readonly body: Buffer;
  readonly statusBy: string | null;
  readonly statusAt: string | null;
  readonly statusNote: string | null;
  readonly requeueCount: number;
  /** The message id of the latest replay. */
  readonly replayId: string | null;
  readonly storedAt: string;
}

/**
 * What makes a dead letter of a task message one failed task: the task's id and the attempt that died. Every
 * duplicate of that death (redelivered, re-run, dead-lettered twice by the broker) has both; a replay has a new
 * id. `undefined` when the body is not a task message: then only `deadLetterKey` tells deaths apart.
 */
export interface DeadLetterIdentity {
  readonly taskId: string;
  readonly attempt: number;
}

export function deadLetterIdentity(input: Pick<DeadLetterInput, 'body'>): DeadLetterIdentity | undefined {
  const decoded = decode(input.body);
  return decoded.ok ? { taskId: decoded.envelope.id, attempt: decoded.envelope.attempt } : undefined;
}

/** The key of a body that is not a task message: message id, death mark and a hash of the body. */
export function deadLetterKey(input: Pick<DeadLetterInput, 'messageId' | 'deathMark' | 'body'>): string {
  const bodyHash = createHash('sha256').update(input.body).digest('hex').slice(0, 16);
  return `${input.messageId ?? '-'}|${input.deathMark}|${bodyHash}`;
}

/**
 * A JSON-safe copy for a `jsonb` column: buffers become text, dates ISO strings, bigints decimal strings,
 * and the NUL character (which `jsonb` refuses) is dropped from strings.
 */
export function toJsonb(value: unknown, depth = 0): unknown {
  if (depth > 32) return '[too deep]';
  if (value === null || typeof value === 'number' || typeof value === 'boolean') return Number.isFinite(value as number) || typeof value !== 'number' ? value : String(value);
  if (typeof value === 'string') return value.replaceAll('\u0000', '');
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return toJsonb(value.toString('utf8'), depth + 1);
  if (Array.isArray(value)) return value.map((item) => toJsonb(item, depth + 1) ?? null);
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      const converted = toJsonb(item, depth + 1);
      if (converted !== undefined) out[key.replaceAll('\u0000', '')] = converted;
    }
    return out;
  }
  return undefined;
}

/** Checks an id from a person or a URL: a positive whole number. */
export function parseId(id: string): string {
  const trimmed = String(id).trim().replace(/^#/, '');
  if (!/^[1-9]\d{0,18}$/.test(trimmed)) throw new BadParameterError('id', `${JSON.stringify(id)} is not a dead letter id (ids are whole numbers, e.g. 42)`);
  return trimmed;
}
