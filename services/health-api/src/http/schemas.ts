import { ERROR_CLASSES, parseDuration, BadParameterError } from '@nightshift/core';
import { Type, type TString } from '@sinclair/typebox';
import { API_ERROR_CODES } from './api-error.ts';

// The pieces the routes' schemas are made of. A route's schema validates its request (fastify with ajv), types
// its handler (`Static<>`) and documents it (@fastify/swagger builds /api/openapi.json from the same schema).

/**
 * Every code the API can answer with: its own, and those of core's taxonomy whose status is not 500 (a 500 is
 * answered as `E_INTERNAL`, keeping its message out of the response).
 */
export const ANSWERED_ERROR_CODES: readonly string[] = [...new Set([
  ...API_ERROR_CODES, ...ERROR_CLASSES.filter(({ outcome }) => outcome.status !== 500).map(({ code }) => code),
])].sort();

/** The body of every error answer. */
export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.Unsafe<string>({ type: 'string', enum: ANSWERED_ERROR_CODES, description: 'stable: match on it, not on the message' }),
    message: Type.String({ description: 'for people; may change' }),
    parameter: Type.Optional(Type.String({ description: 'the parameter at fault: for a 400, and for a 409 of a name already taken' })),
  }),
}, { $id: 'Error', description: 'an error: `{ "error": { "code", "message", "parameter"? } }`' });

const ERROR_STATUS = {
  400: 'a bad parameter (named in `error.parameter`)', 401: 'no or wrong credentials', 403: 'the CSRF check failed',
  404: 'not found', 409: 'refused in this state (without `force`)', 415: 'the body is not JSON', 502: 'the broker could not route the message',
  503: 'a dependency (RabbitMQ, PostgreSQL) is down, or the schema is not migrated',
} as const;
type ErrorStatus = keyof typeof ERROR_STATUS;

const errorRef = Type.Ref(ErrorBody);

/**
 * The response schemas of an API route: `ok` under its status, and the error answers it can give. Every API
 * route can answer 401 (it needs credentials) and 500; a mutation, 403 (CSRF) and 415 (a body that is not JSON).
 */
export function apiResponses(ok: Record<number, object>, errors: readonly ErrorStatus[], options: { mutation?: boolean } = {}): Record<number, object> {
  const statuses = new Set<ErrorStatus>([401, ...(options.mutation ? [403, 415] as const : []), ...errors]);
  return {
    ...ok,
    ...Object.fromEntries([...statuses].sort().map((status) => [status, Type.Unsafe({ ...errorRef, description: ERROR_STATUS[status] })])),
    500: Type.Unsafe({ ...errorRef, description: 'an unexpected error (`E_INTERNAL`); the log has the detail' }),
  };
}

/** An object whose fields the API documents in its summary rather than property by property. */
export const Anything = (description: string) => Type.Object({}, { additionalProperties: true, description });

/** A response that is an HTML page. */
export const HTML_PAGE = { description: 'an HTML page', content: { 'text/html': { schema: { type: 'string' } } } };

/** A page of a keyset-paginated list. */
export const Page = (items: string) => Type.Object({
  items: Type.Array(Type.Object({}, { additionalProperties: true }), { description: items }),
  next: Type.Optional(Type.String({ description: 'pass as `after` for the next page' })),
});

/** A query or body string of reasonable length. */
export const Text = (description: string, options: { pattern?: string; minLength?: number } = {}): TString => Type.String({ maxLength: 500, description, ...options });

/** One of a fixed list of words. */
export const OneOf = <T extends string>(values: readonly T[], description: string) => Type.Unsafe<T>({ type: 'string', enum: [...values], description });

const DURATION = '(\\d+(\\.\\d+)?(ms|s|m|h|d))+';
const ISO_TIME = '\\d{4}-\\d{2}-\\d{2}([T ]\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})?)?';

/** A duration: `30s`, `1h`, `1h30m`. */
export const Duration = (description: string) => Text(`${description}: a duration (e.g. 1m, 1h)`, { pattern: `^${DURATION}$` });

/** An ISO 8601 time, or a duration meaning that long ago (`since=1h`). */
export const TimeOrDuration = (description: string) => Text(`${description}: an ISO 8601 time (e.g. 2030-01-01T00:00:00Z) or a duration ago (e.g. 1h)`, { pattern: `^(${DURATION}|${ISO_TIME})$` });

/** A cursor: the `next` of the previous page. */
export const Cursor = Text('the `next` of the previous page', { pattern: '^[A-Za-z0-9_-]+$' });

/** Reads a `TimeOrDuration` (checked by the schema) as a time. */
export function readTime(parameter: string, value: string, nowMs = Date.now()): Date {
  if (new RegExp(`^${DURATION}$`).test(value)) return new Date(nowMs - duration(parameter, value));
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new BadParameterError(parameter, `${parameter}: ${JSON.stringify(value)} is not a time`);
  return new Date(ms);
}

/** Reads a `Duration` (checked by the schema) in milliseconds, within bounds. */
export function readDuration(parameter: string, value: string, minMs: number, maxMs: number): number {
  const ms = duration(parameter, value);
  if (ms < minMs || ms > maxMs) throw new BadParameterError(parameter, `${parameter}: must be from ${minMs}ms to ${maxMs}ms`);
  return ms;
}

function duration(parameter: string, value: string): number {
  try {
    return parseDuration(value, parameter);
  } catch (error) {
    // The pattern lets through what parseDuration still refuses (a unit given twice: 1h1h).
    throw new BadParameterError(parameter, `${parameter}: ${JSON.stringify(value)} is not a duration (e.g. 1m, 1h)`, { cause: error });
  }
}
