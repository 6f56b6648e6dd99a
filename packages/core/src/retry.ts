import { Backoff } from './backoff.ts';
import type { Duration } from './duration.ts';
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
  /** The waits between attempts: `baseMs` doubling up to `maxMs`, ±`jitter`. */
  readonly backoff: Backoff;
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
  const backoff = new Backoff({ base: merged.base, factor: 2, max: merged.max, jitter: merged.jitter }, field);
  const { baseMs, maxMs, jitter } = backoff;
  return Object.freeze({ maxRetries, baseMs, maxMs, jitter, backoff, retryOn: compileRetryOn(merged.retryOn, field) });
}

/**
 * The wait before retry number `retry` (1 for the first retry): `base · 2^(retry-1)`, capped at `max`,
 * then spread by ±`jitter` and capped at `max` again (`Backoff.delay`). Pass `random` to make it repeatable.
 */
export function retryDelay(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  return policy.backoff.delay(retry, random);
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
