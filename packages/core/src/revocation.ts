/**
 * Where a revoke is kept in Redis, under `NIGHTSHIFT_PREFIX`: a worker started after the revoke still finds it.
 * The key holds who revoked it and when (JSON), and expires after `revokeTtlMs`.
 */
export function revokedKey(prefix: string, id: string): string {
  return `${prefix}:revoked:${id}`;
}

/** A revoke is kept at least this long: a day, beyond any ordinary retry horizon. */
export const REVOKE_TTL_FLOOR_MS = 86_400_000;

/**
 * How long a revoke is kept: twice the longest run horizon of the app's tasks (every attempt to its hard limit
 * and every retry wait; see `runHorizonMs`), and at least a day. A revoked task can never come back after that.
 */
export function revokeTtlMs(longestRunHorizonMs: number): number {
  return Math.max(REVOKE_TTL_FLOOR_MS, 2 * longestRunHorizonMs);
}
