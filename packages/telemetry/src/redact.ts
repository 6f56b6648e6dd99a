/**
 * Secret redaction for logs, alerts and the dashboard. Three rules, applied at any depth:
 * a value under a secret-looking key becomes `***`; every occurrence of a configured secret value
 * inside any string becomes `***`; the password of a URL (`amqp://user:pw@host`) becomes `***`.
 */

/** The mask written in place of a secret. */
const REDACTED = '***';

/**
 * Key names whose values are always redacted. A key matches a name when its last words are the
 * name's words, ignoring case and separators: `password` matches `dbPassword` and `DB_PASSWORD`,
 * `apiKey` matches `x-api-key`, `pass` matches `smtpPass`; `tokenCount` and `bypass` match nothing.
 */
export const DEFAULT_REDACT_KEYS: readonly string[] = Object.freeze([
  'password', 'passwd', 'pass', 'passphrase', 'pwd', 'secret', 'secrets', 'token', 'apiKey', 'privateKey',
  'authorization', 'auth', 'cookie', 'credentials', 'webhookUrl', 'dsn',
]);

export interface RedactOptions {
  /** Extra key names to redact, matched like {@link DEFAULT_REDACT_KEYS} and added to them. Default: none. */
  readonly keys?: readonly string[];
  /** Secret values: every occurrence inside any string is replaced by `***`. Empty strings are ignored. Default: none. */
  readonly values?: readonly string[];
}

/** Redaction options compiled once, for loggers that redact every line. */
export interface Redaction {
  readonly keys: ReadonlySet<string>;
  /** Longest first, so a secret that contains another is masked whole. */
  readonly values: readonly string[];
  /** Key → is it secret; log lines repeat the same few keys, and splitting them into words is the costly part. */
  readonly verdicts: Map<string, boolean>;
}

const MAX_VERDICTS = 10_000;

// `//user:password@`: the password may hold an unencoded `@`, so it runs to the last `@` before the path.
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s:/?#@"]*:)[^\s/?#"]+@/gi;

export function compileRedaction(options: RedactOptions = {}): Redaction {
  const keys = new Set([...DEFAULT_REDACT_KEYS, ...(options.keys ?? [])].map((name) => words(name).join('')));
  keys.delete('');
  const values = [...new Set(options.values ?? [])].filter((value) => value !== '').sort((a, b) => b.length - a.length);
  return Object.freeze({ keys, values: Object.freeze(values), verdicts: new Map<string, boolean>() });
}

/**
 * A redacted copy of `value`, safe to log or send. Arrays, plain objects and errors are copied
 * (errors stay errors of the same class, with redacted message, stack and properties); URL objects
 * come back as masked URLs; other objects (class instances, dates, buffers) are returned as they are.
 * Circular references become `[Circular]`. Never throws.
 */
export function redact(value: string, options?: RedactOptions): string;
export function redact(value: unknown, options?: RedactOptions): unknown;
export function redact(value: unknown, options: RedactOptions = {}): unknown {
  return redactWith(value, compileRedaction(options));
}

/** {@link redact} with options compiled beforehand. */
export function redactWith(value: unknown, redaction: Redaction): unknown {
  try {
    return copy(value, redaction, new Set());
  } catch {
    // Hostile getters or proxies: dropping the value is safer than logging it unredacted.
    return REDACTED;
  }
}

/** Masks secret values and URL passwords in text, including text that is already JSON (a log line). */
export function redactText(text: string, redaction: Redaction): string {
  let result = text;
  for (const secret of redaction.values) {
    result = result.replaceAll(secret, REDACTED);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret) result = result.replaceAll(escaped, REDACTED);
  }
  return result.replace(URL_PASSWORD, `$1${REDACTED}@`);
}

/** Whether a key's value must be redacted. */
export function isSecretKey(key: string, redaction: Redaction): boolean {
  let verdict = redaction.verdicts.get(key);
  if (verdict === undefined) {
    const parts = words(key);
    verdict = parts.some((_, start) => redaction.keys.has(parts.slice(start).join('')));
    if (redaction.verdicts.size >= MAX_VERDICTS) redaction.verdicts.clear();
    redaction.verdicts.set(key, verdict);
  }
  return verdict;
}

function copy(value: unknown, redaction: Redaction, ancestors: Set<object>): unknown {
  if (typeof value === 'string') return redactText(value, redaction);
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof URL) return new URL(redactText(value.href, redaction));
  const isError = value instanceof Error;
  if (!isError && !Array.isArray(value) && !isPlainObject(value)) return value;
  if (ancestors.has(value)) return '[Circular]';
  ancestors.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => copy(item, redaction, ancestors));
    if (isError) return copyError(value, redaction, ancestors);
    const result: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) result[key] = copyProperty(key, item, redaction, ancestors);
    return result;
  } finally {
    ancestors.delete(value);
  }
}

function copyProperty(key: string, value: unknown, redaction: Redaction, ancestors: Set<object>): unknown {
  if (value === undefined || value === null) return value;
  return isSecretKey(key, redaction) ? REDACTED : copy(value, redaction, ancestors);
}

// Keeps the prototype and the (non-enumerable) message, stack and cause, so log serializers still see an error.
// `stack` is an accessor bound to the original in V8, so every property is read and copied as a value.
function copyError(error: Error, redaction: Redaction, ancestors: Set<object>): Error {
  const result = Object.create(Object.getPrototypeOf(error) as object) as Error;
  for (const key of Object.getOwnPropertyNames(error)) {
    const enumerable = Object.getOwnPropertyDescriptor(error, key)?.enumerable ?? false;
    const value = copyProperty(key, Reflect.get(error, key), redaction, ancestors);
    Object.defineProperty(result, key, { value, enumerable, writable: true, configurable: true });
  }
  return result;
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

// `X-Api-Key`, `xApiKey`, `X_API_KEY` → ['x', 'api', 'key'].
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((word) => word !== '');
}
