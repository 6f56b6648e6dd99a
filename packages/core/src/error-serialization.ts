import { ERROR_CLASSES } from './error-outcomes.ts';

/** An error as plain data: safe for JSON, structured clone and message headers. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  cause?: SerializedError;
  /** Other own properties of the error whose values are JSON-safe (e.g. `limitMs`, `field`). */
  props?: Record<string, unknown>;
}

type ErrorClass = abstract new (...args: never[]) => Error;

const KNOWN_CLASSES: ReadonlyMap<string, ErrorClass> = new Map<string, ErrorClass>([
  ...ERROR_CLASSES.map(({ name, cls }) => [name, cls] as const),
  ...[Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError].map((cls) => [cls.name, cls] as const),
]);

const MAX_CAUSE_DEPTH = 8;
const RESERVED = new Set(['name', 'message', 'stack', 'cause', 'code']);

/** Turns anything thrown into plain data that keeps class name, code, message, stack and cause. */
export function serializeError(thrown: unknown, depth = 0): SerializedError {
  if (!(thrown instanceof Error)) {
    return { name: 'NonError', message: describeNonError(thrown) };
  }
  const out: SerializedError = { name: thrown.name, message: thrown.message };
  const code = (thrown as { code?: unknown }).code;
  if (typeof code === 'string' || typeof code === 'number') out.code = String(code);
  if (thrown.stack !== undefined) out.stack = thrown.stack;
  if (thrown.cause !== undefined && depth < MAX_CAUSE_DEPTH) out.cause = serializeError(thrown.cause, depth + 1);
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(thrown)) {
    if (RESERVED.has(key)) continue;
    const value = (thrown as unknown as Record<string, unknown>)[key];
    if (isJsonSafe(value)) props[key] = value;
  }
  if (Object.keys(props).length > 0) out.props = props;
  return out;
}

/**
 * Rebuilds an error from `serializeError` output. Nightshift's own classes and the standard ones come back as
 * instances of their class (so `instanceof PermanentError` holds); any other class comes back as an `Error` whose
 * `name` is the original class name.
 */
export function deserializeError(data: SerializedError): Error {
  const cls = KNOWN_CLASSES.get(data.name);
  const error: Error = cls ? (Object.create(cls.prototype) as Error) : new Error(data.message);
  define(error, 'name', data.name);
  define(error, 'message', data.message);
  define(error, 'stack', data.stack ?? `${data.name}: ${data.message}`);
  if (data.code !== undefined) define(error, 'code', data.code, true);
  if (data.cause !== undefined) define(error, 'cause', deserializeError(data.cause));
  for (const [key, value] of Object.entries(data.props ?? {})) define(error, key, value, true);
  return error;
}

function define(target: object, key: string, value: unknown, enumerable = false): void {
  Object.defineProperty(target, key, { value, enumerable, writable: true, configurable: true });
}

function describeNonError(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return `non-error thrown: ${JSON.stringify(value)}`;
  } catch {
    return `non-error thrown: ${String(value)}`;
  }
}

function isJsonSafe(value: unknown): boolean {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return true;
  if (typeof value !== 'object') return false;
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}
