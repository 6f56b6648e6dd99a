import { Backoff, type Logger } from '@nightshift/core';

// Between two probes of an unreachable PostgreSQL: 250 ms doubling to 5 s, ±20 % (several alerters may wait).
const PROBE_BACKOFF = new Backoff({ base: 250, factor: 2, max: 5_000, jitter: 0.2 }, 'dead-letter store backoff');

/**
 * What every dead-letter handler shares while PostgreSQL is unreachable: after a failure nobody tries until
 * the backoff has passed, then one handler at a time probes while the others wait for its answer, rather
 * than all trying at once. Waiters sleep until that moment or that answer; nothing polls.
 */
export class StoreOutage {
  readonly #logger: Logger;
  /** Failed probes in a row: the place on the backoff; 0 while PostgreSQL answers. */
  #rounds = 0;
  /** Failed attempts of every handler during this outage, for the line saying it is over. */
  #failures = 0;
  #until = 0;
  #probing = false;
  readonly #waiters = new Set<() => void>();

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  get down(): boolean {
    return this.#rounds > 0;
  }

  /** Resolves when this caller may try, or at once when `signal` aborts. */
  async wait(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const waitMs = this.#until - Date.now();
      if (waitMs <= 0 && !(this.down && this.#probing)) {
        if (this.down) this.#probing = true;
        return;
      }
      await this.#nextChange(waitMs, signal);
    }
  }

  /** A failed attempt. Failures of handlers that tried in the same turn count once toward the delay. */
  failed(error: Error, holding: number): void {
    this.#failures += 1;
    this.#probing = false;
    if (Date.now() < this.#until) return this.#changed();
    const first = this.#rounds === 0;
    this.#rounds += 1;
    const retryInMs = PROBE_BACKOFF.delay(this.#rounds);
    this.#until = Date.now() + retryInMs;
    const line = { err: { message: error.message }, retryInMs, holding };
    if (first) this.#logger.warn(line, 'cannot store dead letters: PostgreSQL is unreachable; they stay in the queue until it is back');
    else this.#logger.debug(line, 'PostgreSQL still unreachable');
    this.#changed();
  }

  succeeded(): void {
    this.#probing = false;
    if (this.#rounds > 0) {
      this.#logger.info({ failedAttempts: this.#failures }, 'PostgreSQL is reachable again; storing the dead letters that waited');
      this.#rounds = 0;
      this.#until = 0;
      this.#failures = 0;
    }
    this.#changed();
  }

  /** Until the backoff has passed (when `ms` > 0), the probe in flight has answered, or `signal` aborts. */
  #nextChange(ms: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = ms > 0 ? setTimeout(done, ms) : undefined;
      signal.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }

  #changed(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}
