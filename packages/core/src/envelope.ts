import { MalformedMessageError } from './errors.ts';
import type { TaskOrigin } from './task.ts';

/** The version written into every envelope; decode accepts this one. */
const ENVELOPE_VERSION = 1;

/** A task message body, as it travels through RabbitMQ (JSON). Trace context travels in AMQP headers. */
export interface TaskEnvelope {
  readonly v: typeof ENVELOPE_VERSION;
  readonly id: string;
  readonly task: string;
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly queue: string;
  /** ISO 8601, when the first attempt was sent. */
  readonly sentAt: string;
  /** ISO 8601: do not run before. */
  readonly eta?: string;
  /** ISO 8601: do not run after; dead-lettered with reason `expired`. */
  readonly expires?: string;
  readonly origin: TaskOrigin;
}

export type DecodeResult =
  | { readonly ok: true; readonly envelope: TaskEnvelope }
  | {
      readonly ok: false;
      readonly error: MalformedMessageError;
      /** Whatever could be read of `id` and `task`, for the dead-letter record. */
      readonly partial: { readonly id?: string; readonly task?: string };
    };

export function encode(envelope: TaskEnvelope): Buffer {
  return Buffer.from(JSON.stringify(envelope));
}

/** Reads a message body. Never throws: anything malformed comes back as `{ ok: false, error }` with a readable reason. */
export function decode(body: Uint8Array | string): DecodeResult {
  let parsed: unknown;
  const text = typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return fail(`body is not valid JSON (${detail}); first bytes: ${JSON.stringify(text.slice(0, 40))}`, {});
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail(`body must be a JSON object, got ${describe(parsed)}`, {});
  }
  const raw = parsed as Record<string, unknown>;
  const partial = {
    ...(typeof raw.id === 'string' ? { id: raw.id } : {}),
    ...(typeof raw.task === 'string' ? { task: raw.task } : {}),
  };
  const problem = findProblem(raw);
  if (problem !== undefined) return fail(problem, partial);
  return { ok: true, envelope: raw as unknown as TaskEnvelope };
}

function findProblem(raw: Record<string, unknown>): string | undefined {
  if (raw.v !== ENVELOPE_VERSION) return `field "v" must be ${ENVELOPE_VERSION}, got ${describe(raw.v)}`;
  for (const field of ['id', 'task', 'queue'] as const) {
    if (typeof raw[field] !== 'string' || (raw[field] as string).length === 0) return `field "${field}" must be a non-empty string, got ${describe(raw[field])}`;
  }
  if (!Array.isArray(raw.args)) return `field "args" must be an array, got ${describe(raw.args)}`;
  if (!isPlainObject(raw.kwargs)) return `field "kwargs" must be an object, got ${describe(raw.kwargs)}`;
  for (const field of ['attempt', 'maxAttempts'] as const) {
    if (!Number.isInteger(raw[field]) || (raw[field] as number) < 1) return `field "${field}" must be a whole number ≥ 1, got ${describe(raw[field])}`;
  }
  for (const field of ['sentAt', 'eta', 'expires'] as const) {
    if (field !== 'sentAt' && raw[field] === undefined) continue;
    if (typeof raw[field] !== 'string' || Number.isNaN(Date.parse(raw[field] as string))) return `field "${field}" must be an ISO 8601 time, got ${describe(raw[field])}`;
  }
  return findOriginProblem(raw.origin);
}

function findOriginProblem(origin: unknown): string | undefined {
  if (!isPlainObject(origin)) return `field "origin" must be an object, got ${describe(origin)}`;
  const need = (fields: readonly string[]): string | undefined => {
    const missing = fields.find((f) => typeof origin[f] !== 'string');
    return missing === undefined ? undefined : `field "origin.${missing}" must be a string for origin type "${String(origin.type)}"`;
  };
  switch (origin.type) {
    case 'producer': return need(['producer']);
    case 'beat': return need(['beat', 'scheduledFor']);
    case 'manual':
    case 'backfill': return need(['beat', 'scheduledFor', 'by']);
    case 'replay': return need(['deadLetterId', 'originalId']);
    case 'retry': return need(['retryOf', 'by']);
    default: return `field "origin.type" must be "producer", "beat", "manual", "backfill", "replay" or "retry", got ${describe(origin.type)}`;
  }
}

function fail(reason: string, partial: { id?: string; task?: string }): DecodeResult {
  return { ok: false, error: new MalformedMessageError(reason), partial };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (the field is missing)';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return `${typeof value} ${text.length > 40 ? `${text.slice(0, 40)}…` : text}`;
}
