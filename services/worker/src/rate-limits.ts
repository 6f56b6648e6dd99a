import type { RateLimit } from '@nightshift/core';

/**
 * Per-task rate limits on this worker (Celery's `rate_limit`): at most `count` starts in any `perMs` window.
 * A delivery over the limit waits here, unacknowledged (a reserved task), until its turn.
 */
export class RateLimits {
  readonly #limits = new Map<string, RateLimit>();
  /** Start times in the current window, by task. */
  readonly #starts = new Map<string, number[]>();

  constructor(initial: Iterable<readonly [string, RateLimit | undefined]>) {
    for (const [task, limit] of initial) if (limit !== undefined) this.#limits.set(task, limit);
  }

  /** Sets (or with `undefined` lifts) the limit of a task; waits already under way follow the new limit. */
  set(task: string, limit: RateLimit | undefined): void {
    if (limit === undefined) this.#limits.delete(task);
    else this.#limits.set(task, limit);
  }

  get(task: string): RateLimit | undefined {
    return this.#limits.get(task);
  }

  /** Every task's limit, as written (`'100/m'`). */
  snapshot(): Record<string, string> {
    return Object.fromEntries([...this.#limits].map(([task, limit]) => [task, limit.text]));
  }

  /** Resolves `true` when `task` may start (counted as started), or `false` when `signal` aborted the wait. */
  async take(task: string, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal.aborted) return false;
      const limit = this.#limits.get(task);
      if (limit === undefined) return true;
      const now = Date.now();
      const starts = (this.#starts.get(task) ?? []).filter((at) => now - at < limit.perMs);
      this.#starts.set(task, starts);
      if (starts.length < limit.count) {
        starts.push(now);
        return true;
      }
      // Wait for the oldest start to leave the window, at most a second, so a changed limit is seen soon.
      const waitMs = Math.min(1_000, Math.max(1, limit.perMs - (now - (starts[0] as number))));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, waitMs);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        }
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }
}
