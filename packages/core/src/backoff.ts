import { setTimeout as wait } from 'node:timers/promises';
import { parseDuration, type Duration } from './duration.ts';
import { ConfigError } from './errors.ts';

/** How the wait grows between attempts. Every field is optional; defaults are listed per field. */
export interface BackoffOptions {
  /** The wait after the first failed attempt. Default: `'1s'`. */
  base?: Duration;
  /** Each later wait is this many times the one before (`1` keeps it constant). Default: `2`. */
  factor?: number;
  /** The longest wait, however many attempts failed. Default: `'30s'`. */
  max?: Duration;
  /** Randomness added to each wait, as a fraction (0.2 = ±20%), so many waiters do not retry in step. Default: `0.2`. */
  jitter?: number;
  /** The source of that randomness, a number in [0, 1). Default: `Math.random` (tests pass a seeded one). */
  random?: () => number;
}

const DEFAULT_BACKOFF: Readonly<Required<Omit<BackoffOptions, 'random'>>> = Object.freeze({
  base: '1s',
  factor: 2,
  max: '30s',
  jitter: 0.2,
});

/**
 * Exponential backoff, compiled once: the wait before retry number `attempt` (1 for the first) is
 * `base · factor^(attempt-1)`, capped at `max`, then spread by ±`jitter` and capped at `max` again.
 * The one formula every retry loop in Nightshift uses, task retries included (`retryDelay`).
 */
export class Backoff {
  readonly baseMs: number;
  readonly factor: number;
  readonly maxMs: number;
  readonly jitter: number;
  readonly #random: () => number;

  /**
   * @param field where the options came from, e.g. `task "users.sync" retry`; errors name it.
   * @throws ConfigError naming the field of a value out of range.
   */
  constructor(options: BackoffOptions = {}, field = 'backoff') {
    this.baseMs = parseDuration(options.base ?? DEFAULT_BACKOFF.base, `${field}.base`);
    this.maxMs = parseDuration(options.max ?? DEFAULT_BACKOFF.max, `${field}.max`);
    if (this.maxMs < this.baseMs) {
      throw new ConfigError(`${field}.max (${this.maxMs}ms) must not be below ${field}.base (${this.baseMs}ms)`, { field: `${field}.max` });
    }
    this.factor = options.factor ?? DEFAULT_BACKOFF.factor;
    if (typeof this.factor !== 'number' || !(Number.isFinite(this.factor) && this.factor >= 1)) {
      throw new ConfigError(`${field}.factor: ${JSON.stringify(this.factor)} must be a number ≥ 1`, { field: `${field}.factor` });
    }
    this.jitter = options.jitter ?? DEFAULT_BACKOFF.jitter;
    if (typeof this.jitter !== 'number' || !(this.jitter >= 0 && this.jitter <= 1)) {
      throw new ConfigError(`${field}.jitter: ${JSON.stringify(this.jitter)} must be a fraction between 0 and 1`, { field: `${field}.jitter` });
    }
    if (options.random !== undefined && typeof options.random !== 'function') {
      throw new ConfigError(`${field}.random must be a function returning a number in [0, 1)`, { field: `${field}.random` });
    }
    this.#random = options.random ?? Math.random;
    Object.freeze(this);
  }

  /** The wait in milliseconds before retry number `attempt` (1-based; below 1 counts as 1). `random` overrides the compiled source. */
  delay(attempt: number, random: () => number = this.#random): number {
    const exponential = this.baseMs * this.factor ** Math.max(0, attempt - 1);
    const capped = Math.min(this.maxMs, exponential);
    const spread = capped * this.jitter * (2 * random() - 1);
    return Math.max(0, Math.min(this.maxMs, Math.round(capped + spread)));
  }

  /**
   * Waits `delay(attempt)`. When `signal` aborts, before or during the wait, it rejects at once with an
   * `AbortError` (its `cause` is the signal's reason) and leaves no timer behind.
   */
  sleep(attempt: number, signal?: AbortSignal): Promise<void> {
    return wait(this.delay(attempt), undefined, signal ? { signal } : undefined);
  }
}
