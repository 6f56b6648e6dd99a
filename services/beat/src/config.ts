import { ConfigProblems, readCoreConfig, type NightshiftConfig } from '@nightshift/core';
import { DATABASE_SCHEMA } from '@nightshift/store';
import { BEAT_ENTRY_LABELS, BEAT_RECONCILE } from './settings.ts';

/** Everything beat reads from the environment (declared in settings.ts), validated. */
export interface BeatConfig {
  readonly core: NightshiftConfig;
  /** `NIGHTSHIFT_DATABASE_SCHEMA`: where the runtime schedules and the entries' states are. Default: `nightshift`. */
  readonly schema: string;
  /** `NIGHTSHIFT_BEAT_RECONCILE`: how often the runtime schedules are read in full. Default: `15s`. */
  readonly reconcileEveryMs: number;
  /** `NIGHTSHIFT_BEAT_ENTRY_LABELS`: how many runtime entries have their own series in beat's metrics. Default: `500`. */
  readonly entryLabels: number;
}

/**
 * Reads beat's configuration. Every bad variable is reported at once, each by name.
 * @throws ConfigError listing the variables at fault.
 */
export function loadBeatConfig(env: Readonly<Record<string, string | undefined>> = process.env): BeatConfig {
  const collected = new ConfigProblems(env);
  const core = readCoreConfig(collected);
  return collected.finish({ core, schema: collected.read(DATABASE_SCHEMA), reconcileEveryMs: collected.read(BEAT_RECONCILE), entryLabels: collected.read(BEAT_ENTRY_LABELS) });
}
