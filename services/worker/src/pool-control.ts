import type { SandboxPool } from './sandbox-pool.ts';

/**
 * The pool hooks of remote control (pool restart, grow, shrink, autoscale bounds), kept out of the pools
 * themselves: a pool is never resized in place. A new pool of the wanted size is started and warmed, new attempts
 * go to it, and the old one is closed once the attempts it took have finished ("running tasks finish first").
 */

/** A pool that knows when the attempts it took have all ended. */
export interface TrackedPool extends SandboxPool {
  /** Resolves when no attempt given to this pool is running or waiting in it. */
  drained(): Promise<void>;
}

export function trackPool(pool: SandboxPool): TrackedPool {
  let inFlight = 0;
  let waiters: Array<() => void> = [];
  const settle = () => {
    inFlight -= 1;
    if (inFlight > 0) return;
    for (const resolve of waiters) resolve();
    waiters = [];
  };
  return {
    get canKill() { return pool.canKill; },
    get places() { return pool.places; },
    get onPlaces() { return pool.onPlaces; },
    set onPlaces(listener) { pool.onPlaces = listener; },
    ready: () => pool.ready(),
    close: () => pool.close(),
    start(job, onProgress) {
      const run = pool.start(job, onProgress);
      inFlight += 1;
      run.outcome.then(settle, settle);
      return run;
    },
    drained: () => (inFlight === 0 ? Promise.resolve() : new Promise((resolve) => { waiters.push(resolve); })),
  };
}

/** Bounds of the pool's size that grow and shrink stay within (Celery's `--autoscale=max,min`). */
export interface PoolBounds {
  readonly min: number;
  readonly max: number;
}

/**
 * The default bounds: from 1 to twice the starting concurrency, the most the worker's consumers can feed (their
 * prefetch, fixed while they consume, holds at least the 2 places of each sandbox of that pool).
 */
export function defaultPoolBounds(concurrency: number): PoolBounds {
  return { min: 1, max: 2 * concurrency };
}

/** The size after growing (`by` > 0) or shrinking (`by` < 0), or why it cannot be. */
export function resizedPool(current: number, by: number, bounds: PoolBounds): { size: number } | { refused: string } {
  if (!Number.isInteger(by) || by === 0) return { refused: `n: ${JSON.stringify(Math.abs(by))} must be a whole number of at least 1` };
  const size = current + by;
  if (size > bounds.max) return { refused: `the pool has ${current} sandboxes; growing by ${by} would pass its maximum of ${bounds.max} (set it with autoscale)` };
  if (size < bounds.min) return { refused: `the pool has ${current} sandboxes; shrinking by ${-by} would go below its minimum of ${bounds.min} (set it with autoscale)` };
  return { size };
}

/** Reads autoscale bounds from a control request, or why they are wrong. */
export function readPoolBounds(min: unknown, max: unknown): PoolBounds | { refused: string } {
  const whole = (value: unknown) => typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 1024;
  if (!whole(min)) return { refused: `min: ${JSON.stringify(min)} must be a whole number from 1 to 1024` };
  if (!whole(max)) return { refused: `max: ${JSON.stringify(max)} must be a whole number from 1 to 1024` };
  if ((max as number) < (min as number)) return { refused: `max (${String(max)}) must be at least min (${String(min)})` };
  return { min: min as number, max: max as number };
}

/**
 * Reads `--autoscale` as Celery writes it, `max,min` (`10,3`), or `max` alone (from 1). Throws an `Error` saying
 * what is wrong; the caller names the flag or variable.
 */
export function parseAutoscale(text: string): PoolBounds {
  const match = /^\s*(\d+)\s*(?:,\s*(\d+)\s*)?$/.exec(text);
  if (!match) throw new Error(`${JSON.stringify(text)} is not "max,min" (e.g. "10,3": from 3 sandboxes up to 10 as tasks wait) or "max"`);
  const bounds = readPoolBounds(Number(match[2] ?? 1), Number(match[1]));
  if ('refused' in bounds) throw new Error(`${JSON.stringify(text)}: ${bounds.refused}`);
  return bounds;
}
