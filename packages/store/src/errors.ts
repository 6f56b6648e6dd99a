import { StoreUnavailableError } from '@nightshift/core';

// The store's error classes are defined in core, with the rest of the taxonomy and its table of outcomes.
export {
  StoreUnavailableError, SchemaNotReadyError, DeadLetterNotFoundError, RequeueRefusedError, IgnoreRefusedError, type PriorReview,
  ScheduleNotFoundError, ScheduleConflictError, ScheduleNameTakenError,
} from '@nightshift/core';

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
