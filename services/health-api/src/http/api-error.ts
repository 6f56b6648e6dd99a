import { NightshiftError } from '@nightshift/core';

/**
 * An API error: an HTTP status, a stable `code` that clients match on, a message for people and, for a bad
 * request, the `parameter` at fault. Sent as `{ "error": { "code", "message", "parameter"? } }`.
 */
export class ApiError extends NightshiftError {
  readonly status: number;
  readonly parameter: string | undefined;

  constructor(status: number, code: string, message: string, parameter?: string) {
    super(message, code);
    this.name = 'ApiError';
    this.status = status;
    this.parameter = parameter;
  }
}

export const badParameter = (parameter: string, message: string) => new ApiError(400, 'E_BAD_PARAMETER', `${parameter}: ${message}`, parameter);
export const notFound = (what: string) => new ApiError(404, 'E_NOT_FOUND', `${what} not found`);

/** The status of the store's and core's errors, by code; anything else is a 500. */
const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  E_DEAD_LETTER_NOT_FOUND: 404, E_REQUEUE_REFUSED: 409, E_UNKNOWN_TASK: 404, E_CONFIG: 400,
  E_BROKER_UNAVAILABLE: 503, E_STORE_UNAVAILABLE: 503, E_SCHEMA_NOT_READY: 503, E_UNROUTABLE: 502,
};

/** Turns any error into the status and body the API sends. Unknown errors keep their message out of the response. */
export function errorResponse(error: unknown): { status: number; body: { error: { code: string; message: string; parameter?: string } } } {
  if (error instanceof ApiError) {
    return { status: error.status, body: { error: { code: error.code, message: error.message, ...(error.parameter ? { parameter: error.parameter } : {}) } } };
  }
  const fastify = error as { statusCode?: number; code?: string; message?: string; validation?: unknown };
  if (error instanceof NightshiftError && STATUS_BY_CODE[error.code] !== undefined) {
    const field = (error as { field?: unknown }).field;
    const code = error.code === 'E_CONFIG' ? 'E_BAD_PARAMETER' : error.code;
    return { status: STATUS_BY_CODE[error.code] as number, body: { error: { code, message: error.message, ...(typeof field === 'string' && error.code === 'E_CONFIG' ? { parameter: field } : {}) } } };
  }
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return { status: fastify.statusCode, body: { error: { code: fastify.statusCode === 415 ? 'E_UNSUPPORTED_MEDIA_TYPE' : 'E_BAD_REQUEST', message: fastify.message ?? 'bad request' } } };
  }
  return { status: 500, body: { error: { code: 'E_INTERNAL', message: 'internal error; see the health-api log' } } };
}
