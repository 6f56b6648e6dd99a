/** A call of a `BatchedStatement`: its entry's name and what it writes or asks. */
export interface BatchedCall {
  readonly name: string;
}

interface Waiting<I, O> {
  readonly call: I;
  readonly resolve: (result: O | undefined) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * One statement for many calls: the calls made while a statement runs gather and go together in the next one (at
 * most `maxBatch`, one per entry name, in name order), so under load a change costs a share of a round trip and of a
 * commit rather than one each, and alone it costs what it did. `run` answers for each name of the batch that had a
 * row (`undefined` for the others: the caller says why). If a batch fails, each of its calls is run alone, so one
 * call's failure (a deadlock between two batches, a bad value) is that call's only; unless `shared(error)` says the
 * failure is every call's (PostgreSQL unreachable: asking again, one by one, would only make them wait longer).
 */
export class BatchedStatement<I extends BatchedCall, O> {
  readonly #run: (calls: readonly I[]) => Promise<ReadonlyMap<string, O>>;
  readonly #maxBatch: number;
  readonly #shared: (error: unknown) => boolean;
  #queue: Waiting<I, O>[] = [];
  #running = false;

  constructor(run: (calls: readonly I[]) => Promise<ReadonlyMap<string, O>>, options: { readonly maxBatch?: number; readonly shared?: (error: unknown) => boolean } = {}) {
    this.#run = run;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#shared = options.shared ?? (() => false);
  }

  /** Resolves with the call's row, or `undefined` when the statement had none for its name. */
  call(call: I): Promise<O | undefined> {
    return new Promise<O | undefined>((resolve, reject) => {
      this.#queue.push({ call, resolve, reject });
      // Calls made in the same turn of the event loop join the first batch.
      if (!this.#running) {
        this.#running = true;
        queueMicrotask(() => void this.#drain());
      }
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#take();
      try {
        const results = await this.#run(batch.map((waiting) => waiting.call));
        for (const waiting of batch) waiting.resolve(results.get(waiting.call.name));
      } catch (error) {
        if (batch.length === 1 || this.#shared(error)) for (const waiting of batch) waiting.reject(error);
        else await Promise.all(batch.map(async (waiting) => this.#alone(waiting)));
      }
    }
    this.#running = false;
  }

  async #alone(waiting: Waiting<I, O>): Promise<void> {
    try {
      waiting.resolve((await this.#run([waiting.call])).get(waiting.call.name));
    } catch (error) {
      waiting.reject(error);
    }
  }

  /**
   * The next batch: the oldest call of each name, in name order (so two batches tend to take their rows' locks in
   * the same order; a deadlock between them fails both, and then each call runs alone); later calls of a name wait.
   */
  #take(): Waiting<I, O>[] {
    const batch = new Map<string, Waiting<I, O>>();
    const rest: Waiting<I, O>[] = [];
    for (const waiting of this.#queue) {
      if (batch.size < this.#maxBatch && !batch.has(waiting.call.name)) batch.set(waiting.call.name, waiting);
      else rest.push(waiting);
    }
    this.#queue = rest;
    return [...batch.values()].sort((a, b) => (a.call.name < b.call.name ? -1 : a.call.name > b.call.name ? 1 : 0));
  }
}
