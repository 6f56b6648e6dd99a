/** The most items one batch carries: one Lua call over them holds Redis for about a millisecond. */
export const MAX_BATCH = 500;

interface Waiting<I, O> {
  readonly item: I;
  readonly resolve: (result: O) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the calls made in one turn of the event loop (every entry due on one boundary wakes in the same timers
 * phase; every entry of a new leader starts in the same turn) and runs them as batches of at most `MAX_BATCH`:
 * one Redis round trip (one Lua call) each instead of one per call. Each caller gets its own item's result; when
 * a batch fails, each of its callers gets the error, as a call of its own would have.
 */
export class Batcher<I, O> {
  readonly #run: (items: readonly I[]) => Promise<readonly O[]>;
  #waiting: Waiting<I, O>[] = [];
  #scheduled = false;

  constructor(run: (items: readonly I[]) => Promise<readonly O[]>) {
    this.#run = run;
  }

  add(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#waiting.push({ item, resolve, reject });
      if (this.#waiting.length >= MAX_BATCH) this.#flush();
      else if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const batch = this.#waiting;
    this.#waiting = [];
    if (batch.length === 0) return;
    this.#run(batch.map((waiting) => waiting.item)).then((results) => {
      batch.forEach((waiting, i) => waiting.resolve(results[i] as O));
    }, (error: unknown) => {
      for (const waiting of batch) waiting.reject(error);
    });
  }
}
