import { parseDuration, type Duration } from './duration.ts';
import { ConfigError, PermanentError, RetryableError } from './errors.ts';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- error classes have arbitrary constructor signatures
export type ErrorClass = abstract new (...args: any[]) => Error;

/** How a task retries. Every field is optional; defaults are listed per field. */
export interface RetryOptions {
  /** Retries after the first attempt; `0` never retries. Default: `3` (four attempts in all). */
  maxRetries?: number;
  /** Delay before the first retry; each later one doubles. Default: `'1s'`. */
  base?: Duration;
  /** Longest delay between two attempts. Default: `'10m'`. */
  max?: Duration;
  /** Randomness added to each delay, as a fraction (0.2 = ±20%), so retries of many tasks do not align. Default: `0.2`. */
  jitter?: number;
  /**
   * Which errors are worth another attempt: a list of error classes, or a predicate.
   * Default: every error except `PermanentError`. `RetryableError` is always retried and
   * `PermanentError` never, whatever this says.
   */
  retryOn?: readonly ErrorClass[] | ((error: unknown) => boolean);
}

/** A validated, defaulted, frozen retry policy. */
export interface RetryPolicy {
  readonly maxRetries: number;
  readonly baseMs: number;
  readonly maxMs: number;
  readonly jitter: number;
  readonly retryOn: (error: unknown) => boolean;
}

export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly reason: 'permanent' | 'not-retryable' | 'exhausted' };

export const DEFAULT_RETRY: Readonly<Required<Omit<RetryOptions, 'retryOn'>>> = Object.freeze({
  maxRetries: 3,
  base: '1s',
  max: '10m',
  jitter: 0.2,
});

/**
 * Validates retry options (over `fallback`, e.g. the app's defaults) into a policy.
 * @param field where the options came from, e.g. `task "users.sync" retry`; errors name it.
 */
export function compileRetryPolicy(options: RetryOptions = {}, field = 'retry', fallback: RetryOptions = {}): RetryPolicy {
  const merged: RetryOptions = { ...DEFAULT_RETRY, ...stripUndefined(fallback), ...stripUndefined(options) };
  const maxRetries = merged.maxRetries as number;
  if (!Number.isInteger(maxRetries) || maxRetries < 0) {
    throw new ConfigError(`${field}.maxRetries: ${JSON.stringify(maxRetries)} must be a whole number ≥ 0`, { field: `${field}.maxRetries` });
  }
  const baseMs = parseDuration(merged.base as Duration, `${field}.base`);
  const maxMs = parseDuration(merged.max as Duration, `${field}.max`);
  if (maxMs < baseMs) {
    throw new ConfigError(`${field}.max (${maxMs}ms) must not be below ${field}.base (${baseMs}ms)`, { field: `${field}.max` });
  }
  const jitter = merged.jitter as number;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    throw new ConfigError(`${field}.jitter: ${JSON.stringify(jitter)} must be a fraction between 0 and 1`, { field: `${field}.jitter` });
  }
  return Object.freeze({ maxRetries, baseMs, maxMs, jitter, retryOn: compileRetryOn(merged.retryOn, field) });
}

/**
 * The wait before retry number `retry` (1 for the first retry): `base · 2^(retry-1)`, capped at `max`,
 * then spread by ±`jitter` and capped at `max` again. Pure: pass `random` to make it repeatable.
 */
export function retryDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const exponential = policy.baseMs * 2 ** Math.max(0, retry - 1);
  const capped = Math.min(policy.maxMs, exponential);
  const spread = capped * policy.jitter * (2 * random() - 1);
  return Math.max(0, Math.min(policy.maxMs, Math.round(capped + spread)));
}

/** Decides what happens after attempt number `attempt` (1-based) failed with `error`. */
export function decideRetry(policy: RetryPolicy, error: unknown, attempt: number, random: () => number = Math.random): RetryDecision {
  if (error instanceof PermanentError) return { retry: false, reason: 'permanent' };
  const forced = error instanceof RetryableError;
  if (!forced && !policy.retryOn(error)) return { retry: false, reason: 'not-retryable' };
  if (attempt > policy.maxRetries) return { retry: false, reason: 'exhausted' };
  const after = forced ? error.retryAfterMs : undefined;
  return { retry: true, delayMs: after ?? retryDelay(policy, attempt, random) };
}

function compileRetryOn(retryOn: RetryOptions['retryOn'], field: string): (error: unknown) => boolean {
  if (retryOn === undefined) return () => true;
  if (typeof retryOn === 'function') return retryOn;
  if (!Array.isArray(retryOn) || retryOn.some((cls) => typeof cls !== 'function')) {
    throw new ConfigError(`${field}.retryOn must be a list of error classes or a function (error) => boolean`, { field: `${field}.retryOn` });
  }
  const classes = [...retryOn];
  return (error) => classes.some((cls) => error instanceof cls || (error instanceof Error && error.name === cls.name));
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
