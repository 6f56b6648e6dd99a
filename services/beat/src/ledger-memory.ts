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
  readonly #entries = new Map<string, KnownWatermark>();
  /** The newest epoch seen; `undefined` before Redis was first read. */
  #epoch: string | undefined;

  get epoch(): string | undefined {
    return this.#epoch;
  }

  get(entry: string): KnownWatermark | undefined {
    return this.#entries.get(entry);
  }

  /** A watermark this replica wrote (or was given by Redis) while leading under `epoch`. */
  led(entry: string, ms: number, epoch: string): void {
    // One string for the epoch, not a copy per entry from each Redis reply.
    const shared = epoch === this.#epoch ? this.#epoch : (this.#epoch = epoch);
    const known = this.#entries.get(entry);
    if (known === undefined || known.epoch !== shared || ms >= known.ms) this.#entries.set(entry, { ms, epoch: shared, exact: true });
  }

  /**
   * What a follower read: the epoch (`null` when Redis has none) and every watermark. Without an epoch Redis has
   * lost the state (or never had one): what this replica knew stays, for whoever leads next. A watermark newer
   * than ours was written by another leader, so ours is no longer exact.
   */
  observed(epoch: string | null, watermarks: Readonly<Record<string, string>>): void {
    if (epoch === null) return;
    if (this.#epoch !== undefined && epoch !== this.#epoch) {
      // Another replica recovered the state already: what it wrote is what counts now.
      for (const [entry, known] of this.#entries) this.#entries.set(entry, { ...known, exact: false });
    }
    this.#epoch = epoch;
    for (const [entry, raw] of Object.entries(watermarks)) {
      const ms = Number(raw);
      if (!Number.isFinite(ms)) continue;
      const known = this.#entries.get(entry);
      if (known !== undefined && known.epoch === epoch && known.ms === ms) continue;
      this.#entries.set(entry, { ms, epoch, exact: false });
    }
  }
}
