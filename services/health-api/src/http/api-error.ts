import { BadParameterError, ConfigError, errorOutcome, NightshiftError, ScheduleNameTakenError } from '@nightshift/core';

/** The codes of the API's own errors, beside those of core's taxonomy. */
export const API_ERROR_CODES = ['E_UNAUTHORIZED', 'E_CSRF', 'E_NOT_FOUND', 'E_NO_APP', 'E_BAD_REQUEST', 'E_UNSUPPORTED_MEDIA_TYPE', 'E_SCHEDULE_OVERLAP', 'E_INTERNAL', 'E_NOT_RETRYABLE'] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

/**
 * An error of the HTTP layer itself (authentication, CSRF, a missing resource): its status is part of it.
 * Errors of the rest of Nightshift take their status from core's table of error outcomes.
 */
export class ApiError extends NightshiftError {
  readonly status: number;

  constructor(status: number, code: ApiErrorCode, message: string) {
    super(message, { code });
    this.name = 'ApiError';
    this.status = status;
  }
}

export const badParameter = (parameter: string, message: string) => new BadParameterError(parameter, `${parameter}: ${message}`);
export const notFound = (what: string) => new ApiError(404, 'E_NOT_FOUND', `${what} not found`);

/** The body of every error answer: `{ "error": { "code", "message", "parameter"? } }`. */
export interface ErrorBody {
  error: { code: string; message: string; parameter?: string };
}

const INTERNAL: ErrorBody = { error: { code: 'E_INTERNAL', message: 'internal error; see the health-api log' } };

/** Turns any error into the status and body the API sends. A 500 keeps its message out of the response. */
export function errorResponse(error: unknown): { status: number; body: ErrorBody } {
  if (error instanceof ApiError) return { status: error.status, body: { error: { code: error.code, message: error.message } } };
  if (error instanceof NightshiftError) {
    const { status } = errorOutcome(error);
    if (status === 500) return { status, body: INTERNAL };
    const parameter = error instanceof BadParameterError ? error.parameter : error instanceof ConfigError || error instanceof ScheduleNameTakenError ? error.field : undefined;
    return { status, body: { error: { code: error.code, message: error.message, ...(parameter === undefined ? {} : { parameter }) } } };
  }
  const fastify = error as { statusCode?: number; message?: string };
  if (typeof fastify.statusCode === 'number' && fastify.statusCode >= 400 && fastify.statusCode < 500) {
    return { status: fastify.statusCode, body: { error: { code: fastify.statusCode === 415 ? 'E_UNSUPPORTED_MEDIA_TYPE' : 'E_BAD_REQUEST', message: fastify.message ?? 'bad request' } } };
  }
  return { status: 500, body: INTERNAL };
}
