/**
 * Where beat keeps its state in Redis, under `NIGHTSHIFT_PREFIX`: written by beat, read by the health-api
 * (the leader lease) and by tests.
 */
export interface BeatKeys {
  /** The leader lease: a string holding the leader's token (see `leaseToken`). */
  readonly lease: string;
  /** The channel a leader publishes to when it gives the lease up on a clean stop, so another replica takes it at once. */
  readonly leaseReleased: string;
  /** A hash: entry name → the newest fire time (ms) handled, sent or counted missed. */
  readonly lastRun: string;
  /**
   * The epoch of that state: random, written once when beat finds none. A Redis that comes back without beat's
   * state (restarted without persistence, flushed) gets a new one, which tells a replica that knew the old one.
   */
  readonly lastRunEpoch: string;
  /**
   * A hash: entry name → `{ id, sentAtMs }` of the newest run a person sent (run now, backfill), written as it is
   * sent, so beat's overlap policy sees it before the task history does.
   */
  readonly personSent: string;
  /** Every key beat writes, as a SCAN pattern (for tests and for `redis-cli --scan`). */
  readonly pattern: string;
  /** The claim of one run. */
  run(entry: string, scheduledForMs: number): string;
  /**
   * The runs beat claimed and has not yet recorded sent or missed (a sorted set: `<fire time ms>|<entry>` by claim
   * time): what a leader that died between claiming and sending left, for the next leader to send.
   */
  readonly unsent: string;
}

export function beatKeys(prefix: string): BeatKeys {
  const base = `${prefix}:beat`;
  return Object.freeze({
    lease: `${base}:lease`,
    leaseReleased: `${base}:lease:released`,
    lastRun: `${base}:last-run`,
    lastRunEpoch: `${base}:last-run:epoch`,
    unsent: `${base}:unsent`,
    personSent: `${base}:person-sent`,
    pattern: `${base}:*`,
    run: (entry: string, scheduledForMs: number) => `${base}:run:${entry}:${new Date(scheduledForMs).toISOString()}`,
  });
}
