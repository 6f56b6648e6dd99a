import { brand } from './error-brand.ts';
import { NightshiftError, type NightshiftErrorOptions } from './errors.ts';

// The store's errors (thrown by @nightshift/store, which re-exports them). They live here, beside the rest of the
// taxonomy, so that the one table of HTTP statuses and exit codes (error-outcomes.ts) can name every class.

/** PostgreSQL could not be reached, or dropped the connection. Retrying later may help. */
export class StoreUnavailableError extends NightshiftError {
  static { brand(this, 'StoreUnavailableError', 'E_STORE_UNAVAILABLE'); }
  constructor(message: string, options?: NightshiftErrorOptions) {
    super(message, options);
    this.name = 'StoreUnavailableError';
  }
}

/** The schema is missing or older than this code: migrations must run first (`nightshift db migrate`). */
export class SchemaNotReadyError extends NightshiftError {
  static { brand(this, 'SchemaNotReadyError', 'E_SCHEMA_NOT_READY'); }
  readonly schema: string;
  constructor(schema: string, message: string, options?: NightshiftErrorOptions) {
    super(message, options);
    this.name = 'SchemaNotReadyError';
    this.schema = schema;
  }
}

/** No dead letter has that id. */
export class DeadLetterNotFoundError extends NightshiftError {
  static { brand(this, 'DeadLetterNotFoundError', 'E_DEAD_LETTER_NOT_FOUND'); }
  readonly ids: readonly string[];
  constructor(ids: readonly string[]) {
    super(`no dead letter ${ids.map((id) => `#${id}`).join(', ')} in the store`);
    this.name = 'DeadLetterNotFoundError';
    this.ids = ids;
  }
}

/** A requeue that would send a dead letter again; `force` allows it. */
export class RequeueRefusedError extends NightshiftError {
  static { brand(this, 'RequeueRefusedError', 'E_REQUEUE_REFUSED'); }
  readonly id: string;
  constructor(id: string, message: string) {
    super(message);
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
  static { brand(this, 'IgnoreRefusedError', 'E_IGNORE_REFUSED'); }
  /** The dead letters already ignored, with who ignored them, when and why. */
  readonly ignored: readonly PriorReview[];
  constructor(ignored: readonly PriorReview[]) {
    super(ignored.map((d) => `dead letter #${d.id} was already ignored by ${d.by ?? 'someone'}${d.at ? ` at ${d.at}` : ''}${d.note ? ` (${JSON.stringify(d.note)})` : ''}`).join('; '));
    this.name = 'IgnoreRefusedError';
    this.ignored = ignored;
  }
}
