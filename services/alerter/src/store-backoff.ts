import type { Logger } from '@nightshift/core';

/**
 * The wait shared by every handler while PostgreSQL is unreachable: 250 ms doubling to `maxMs`, ±20 %.
 * While it is down, one handler at a time probes; the others wait for its answer rather than all trying.
 */
export class StoreBackoff {
  readonly #logger: Logger;
  readonly #maxMs: number;
  #delayMs = 0;
  #until = 0;
  #failures = 0;
  #probing = false;

  constructor(logger: Logger, maxMs = 5_000) {
    this.#logger = logger;
    this.#maxMs = maxMs;
  }

  get down(): boolean {
    return this.#delayMs > 0;
  }

  /** Resolves when this caller may try, or at once when `stopped()` turns true. */
  async wait(stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      const blocked = Date.now() < this.#until || (this.down && this.#probing);
      if (!blocked) {
        if (this.down) this.#probing = true;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(10, Math.min(100, this.#until - Date.now()))));
    }
  }

  /** A failed attempt. Failures of handlers that tried in the same turn count once toward the delay. */
  failed(error: Error, holding: number): void {
    this.#failures += 1;
    this.#probing = false;
    if (Date.now() < this.#until) return;
    const first = this.#delayMs === 0;
    this.#delayMs = first ? 250 : Math.min(this.#maxMs, this.#delayMs * 2);
    this.#until = Date.now() + Math.round(this.#delayMs * (0.8 + Math.random() * 0.4));
    const line = { err: { message: error.message }, retryInMs: this.#delayMs, holding };
    if (first) this.#logger.warn(line, 'cannot store dead letters: PostgreSQL is unreachable; they stay in the queue until it is back');
    else this.#logger.debug(line, 'PostgreSQL still unreachable');
  }

  succeeded(): void {
    this.#probing = false;
    if (this.#delayMs === 0) return;
    this.#logger.info({ failedAttempts: this.#failures }, 'PostgreSQL is reachable again; storing the dead letters that waited');
    this.#delayMs = 0;
    this.#until = 0;
    this.#failures = 0;
  }
}
