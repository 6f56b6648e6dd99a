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
  /** Every key beat writes, as a SCAN pattern (for tests and for `redis-cli --scan`). */
  readonly pattern: string;
  /** The claim of one run. */
  run(entry: string, scheduledForMs: number): string;
}

export function beatKeys(prefix: string): BeatKeys {
  const base = `${prefix}:beat`;
  return Object.freeze({
    lease: `${base}:lease`,
    leaseReleased: `${base}:lease:released`,
    lastRun: `${base}:last-run`,
    pattern: `${base}:*`,
    run: (entry: string, scheduledForMs: number) => `${base}:run:${entry}:${new Date(scheduledForMs).toISOString()}`,
  });
}
