import { hostname } from 'node:os';
import { ConfigError, parseDuration, type Duration } from '@nightshift/core';
import { DEFAULT_ENTRY_LABELS, MAX_ENTRY_LABELS } from '@nightshift/schedule';

/** How a beat replica competes for the lease and sends. Every option has a default. */
export interface BeatOptions {
  /** How long the lease lasts without a renewal: how long a crashed leader's runs wait for a takeover. Default: `'5s'`. */
  readonly leaseTtl?: Duration;
  /** How often the leader renews and the others try to take over. Default: a third of `leaseTtl`. */
  readonly renewEvery?: Duration;
  /**
   * How long one publish may wait for the broker before beat tries again (while the run's grace lasts).
   * A run is never in the publisher's queue after its grace plus this. Default: `'5s'` (a boundary of 2,000 runs is
   * written to the broker at once, and the last is confirmed after the others: 0.4–0.7 s on a 2-core machine, more
   * under load; past the timeout it would be sent a second time, marked), at most `NIGHTSHIFT_PUBLISH_TIMEOUT`.
   */
  readonly publishAttemptTimeout?: Duration;
  /** How long the claim of one run stays in Redis (the last-run watermark guards beyond it). Default: `'1h'`. */
  readonly claimTtl?: Duration;
  /** Names this replica in logs, metrics and its lease token. Default: `beat@<hostname>:<pid>`. */
  readonly replica?: string;
  /**
   * How often the runtime schedules and every entry's state are read again in full, besides the notifications
   * that bring each change at once: a lost notification heals within this. Default: `'15s'`.
   */
  readonly reconcileEvery?: Duration;
  /**
   * How many runtime entries may have their own series in beat's metrics (the `entry` label). With more, every
   * runtime entry is counted as `entry="(runtime)"` (see `BeatMetrics`). From 0 to `MAX_ENTRY_LABELS`. Default: `500`.
   */
  readonly entryLabels?: number;
}

/** `BeatOptions`, validated, in milliseconds, frozen. */
export interface BeatSettings {
  readonly leaseTtlMs: number;
  readonly renewEveryMs: number;
  readonly publishAttemptTimeoutMs: number;
  readonly claimTtlMs: number;
  readonly replica: string;
  readonly reconcileEveryMs: number;
  readonly entryLabels: number;
}

export const BEAT_DEFAULTS = Object.freeze({ leaseTtl: '5s', publishAttemptTimeout: '5s', claimTtl: '1h', reconcileEvery: '15s', entryLabels: DEFAULT_ENTRY_LABELS });

export { MAX_ENTRY_LABELS };

/** The Prometheus `/metrics` port of beat when `NIGHTSHIFT_METRICS_PORT` is not set. */
export const BEAT_METRICS_PORT = 9465;

/**
 * Compiles beat's options.
 * @param publishTimeoutMs `NIGHTSHIFT_PUBLISH_TIMEOUT`: a publish attempt never waits longer.
 * @throws ConfigError naming the option at fault.
 */
export function compileBeatOptions(options: BeatOptions = {}, publishTimeoutMs = Number.POSITIVE_INFINITY): BeatSettings {
  const leaseTtlMs = parseDuration(options.leaseTtl ?? BEAT_DEFAULTS.leaseTtl, 'beat leaseTtl');
  if (leaseTtlMs < 300) throw new ConfigError(`beat leaseTtl: ${leaseTtlMs}ms is too short to renew in time (at least 300ms)`, { field: 'leaseTtl' });
  const renewEveryMs = options.renewEvery === undefined ? Math.floor(leaseTtlMs / 3) : parseDuration(options.renewEvery, 'beat renewEvery');
  if (renewEveryMs < 50 || renewEveryMs > leaseTtlMs / 2) {
    throw new ConfigError(`beat renewEvery: ${renewEveryMs}ms must be from 50ms to half of leaseTtl (${leaseTtlMs}ms), so that one lost renewal does not lose the lease`, { field: 'renewEvery' });
  }
  const attemptMs = parseDuration(options.publishAttemptTimeout ?? BEAT_DEFAULTS.publishAttemptTimeout, 'beat publishAttemptTimeout');
  const claimTtlMs = parseDuration(options.claimTtl ?? BEAT_DEFAULTS.claimTtl, 'beat claimTtl');
  if (claimTtlMs < leaseTtlMs) throw new ConfigError(`beat claimTtl: must be at least leaseTtl (${leaseTtlMs}ms)`, { field: 'claimTtl' });
  const replica = options.replica ?? `beat@${hostname()}:${process.pid}`;
  if (typeof replica !== 'string' || replica.trim() === '') throw new ConfigError('beat replica: must be a non-empty string', { field: 'replica' });
  const reconcileEveryMs = parseDuration(options.reconcileEvery ?? BEAT_DEFAULTS.reconcileEvery, 'beat reconcileEvery');
  if (reconcileEveryMs < 100) throw new ConfigError(`beat reconcileEvery: ${reconcileEveryMs}ms is too short (at least 100ms)`, { field: 'reconcileEvery' });
  const entryLabels = options.entryLabels ?? BEAT_DEFAULTS.entryLabels;
  if (!Number.isInteger(entryLabels) || entryLabels < 0 || entryLabels > MAX_ENTRY_LABELS) {
    throw new ConfigError(`beat entryLabels: ${JSON.stringify(entryLabels)} must be a whole number from 0 to ${MAX_ENTRY_LABELS}`, { field: 'entryLabels' });
  }
  return Object.freeze({
    leaseTtlMs, renewEveryMs, publishAttemptTimeoutMs: Math.max(100, Math.min(attemptMs, publishTimeoutMs)), claimTtlMs, replica, reconcileEveryMs, entryLabels,
  });
}
