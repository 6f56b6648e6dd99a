/** What this replica knows of one entry's watermark, and how well. */
export interface KnownWatermark {
  /** The newest fire time handled (ms). */
  readonly ms: number;
  /** The epoch of Redis's state this was true in. */
  readonly epoch: string;
  /**
   * True when this replica wrote it while leading, and no other replica can have dispatched since: proof
   * that no later run was sent. False when it was only read from Redis (another leader may have sent more).
   */
  readonly exact: boolean;
}

/**
 * This replica's own memory of beat's state in Redis, kept so that Redis coming back without it (a restart
 * without persistence, a flush) loses no run silently. Redis's state carries an epoch, written once when the
 * state is created: a replica that knew another epoch knows that the state it sees now is not the one it knew.
 * The leader remembers every watermark it writes; followers read them on every lease renewal.
 */
export class LedgerMemory {
  // A leader keeps one watermark per entry (100,000 of them): a number in a map, not an object each. Watermarks of
  // the current epoch are written here (`exact`) or read from Redis; those of an epoch before (Redis lost its state
  // since; rare) keep their epoch with them.
  readonly #exact = new Map<string, number>();
  readonly #read = new Map<string, number>();
  readonly #older = new Map<string, KnownWatermark>();
  /** The newest epoch seen; `undefined` before Redis was first read. */
  #epoch: string | undefined;

  get epoch(): string | undefined {
    return this.#epoch;
  }

  get(entry: string): KnownWatermark | undefined {
    const epoch = this.#epoch as string;
    const exact = this.#exact.get(entry);
    if (exact !== undefined) return { ms: exact, epoch, exact: true };
    const read = this.#read.get(entry);
    if (read !== undefined) return { ms: read, epoch, exact: false };
    return this.#older.get(entry);
  }

  /** A watermark this replica wrote (or was given by Redis) while leading under `epoch`. */
  led(entry: string, ms: number, epoch: string): void {
    if (epoch !== this.#epoch) this.#newEpoch(epoch, true);
    const known = this.#exact.get(entry) ?? this.#read.get(entry);
    if (known !== undefined && ms < known) return;
    this.#exact.set(entry, ms);
    this.#read.delete(entry);
    this.#older.delete(entry);
  }

  /**
   * What a follower read: the epoch (`null` when Redis has none) and every watermark. Without an epoch Redis has
   * lost the state (or never had one): what this replica knew stays, for whoever leads next. A watermark newer
   * than ours was written by another leader, so ours is no longer exact.
   */
  observed(epoch: string | null, watermarks: Readonly<Record<string, string>>): void {
    if (epoch === null) return;
    // Another replica recovered the state already: what it wrote is what counts now.
    if (epoch !== this.#epoch) this.#newEpoch(epoch, this.#epoch === undefined);
    for (const entry in watermarks) {
      const ms = Number(watermarks[entry]);
      if (!Number.isFinite(ms)) continue;
      if ((this.#exact.get(entry) ?? this.#read.get(entry)) === ms) continue;
      this.#read.set(entry, ms);
      this.#exact.delete(entry);
      this.#older.delete(entry);
    }
  }

  // What was known under the epoch before stays known under it; `keepExact` false: none of it is exact any more.
  #newEpoch(epoch: string, keepExact: boolean): void {
    const before = this.#epoch;
    if (before !== undefined) {
      for (const [entry, ms] of this.#exact) this.#older.set(entry, { ms, epoch: before, exact: keepExact });
      for (const [entry, ms] of this.#read) this.#older.set(entry, { ms, epoch: before, exact: false });
      if (!keepExact) for (const [entry, known] of this.#older) if (known.exact) this.#older.set(entry, { ...known, exact: false });
    }
    this.#exact.clear();
    this.#read.clear();
    this.#epoch = epoch;
    // Known under this very epoch before (never, unless an epoch came back): current again.
    for (const [entry, known] of this.#older) {
      if (known.epoch !== epoch) continue;
      (known.exact ? this.#exact : this.#read).set(entry, known.ms);
      this.#older.delete(entry);
    }
  }
}
