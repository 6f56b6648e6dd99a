import { NightshiftError, type NightshiftErrorOptions } from '@nightshift/core';

/** PostgreSQL could not be reached, or dropped the connection. Retrying later may help. */
export class StoreUnavailableError extends NightshiftError {
  constructor(message: string, options?: NightshiftErrorOptions) {
    super(message, 'E_STORE_UNAVAILABLE', options);
    this.name = 'StoreUnavailableError';
  }
}

/** The schema is missing or older than this code: migrations must run first (`nightshift db migrate`). */
export class SchemaNotReadyError extends NightshiftError {
  readonly schema: string;
  constructor(schema: string, message: string, options?: NightshiftErrorOptions) {
    super(message, 'E_SCHEMA_NOT_READY', options);
    this.name = 'SchemaNotReadyError';
    this.schema = schema;
  }
}

/** No dead letter has that id. */
export class DeadLetterNotFoundError extends NightshiftError {
  readonly ids: readonly string[];
  constructor(ids: readonly string[]) {
    super(`no dead letter ${ids.map((id) => `#${id}`).join(', ')} in the store`, 'E_DEAD_LETTER_NOT_FOUND');
    this.name = 'DeadLetterNotFoundError';
    this.ids = ids;
  }
}

/** A requeue that would send a dead letter again; `force` allows it. */
export class RequeueRefusedError extends NightshiftError {
  readonly id: string;
  constructor(id: string, message: string) {
    super(message, 'E_REQUEUE_REFUSED');
    this.name = 'RequeueRefusedError';
    this.id = id;
  }
}

/** Who reviewed a dead letter last, and why: what an ignore with `force` replaces. */
export interface PriorReview {
  readonly id: string;
  readonly by: string | null;
  /** ISO 8601. */
  readonly at: string | null;
  readonly note: string | null;
}

/** An ignore of dead letters already ignored, whose reviews it would replace; `force` allows it. */
export class IgnoreRefusedError extends NightshiftError {
  /** The dead letters already ignored, with who ignored them, when and why. */
  readonly ignored: readonly PriorReview[];
  constructor(ignored: readonly PriorReview[]) {
    super(ignored.map((d) => `dead letter #${d.id} was already ignored by ${d.by ?? 'someone'}${d.at ? ` at ${d.at}` : ''}${d.note ? ` (${JSON.stringify(d.note)})` : ''}`).join('; '), 'E_IGNORE_REFUSED');
    this.name = 'IgnoreRefusedError';
    this.ignored = ignored;
  }
}

// Connection-level trouble (class 08), server shutting down (57P01-57P03), too many connections (53300),
// serialization/deadlock (40001, 40P01): worth retrying. Anything else is about the data or the SQL.
const TRANSIENT_SQLSTATE = /^(08|57P0[123]|53300|40001|40P01)/;
const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Whether an error from pg means "the database is not there right now" rather than "this statement is wrong".
 * Unknown errors without a SQLSTATE (a socket closed mid-query, a client-side timeout) count as transient.
 */
export function isTransientStoreError(error: unknown): boolean {
  if (error instanceof StoreUnavailableError) return true;
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return TRANSIENT_SQLSTATE.test(code);
  if (typeof code === 'string' && TRANSIENT_NODE_CODES.has(code)) return true;
  return /connection|terminated|timeout|socket|ECONN/i.test(error.message);
}
