/**
 * The rule beat's and the alerter's per-entry metrics share, so that an operator learns it once: the app's entries
 * always have a series of their own (`entry` label), runtime entries up to a bound (`NIGHTSHIFT_BEAT_ENTRY_LABELS`,
 * `NIGHTSHIFT_ALERTER_ENTRY_LABELS`); past it, every runtime entry is counted together under one label until the
 * service restarts. Why: with @opentelemetry/sdk-metrics 3.1 a metric takes 2,000 attribute sets (the rest go into
 * one overflow series) and keeps every one it was given, and 100,000 runtime entries would each bring a series.
 */

/** The `entry` label of the runtime entries counted together. */
export const RUNTIME_ENTRIES_LABEL = '(runtime)';

/** How many runtime entries may have their own series unless the service's setting says otherwise. */
export const DEFAULT_ENTRY_LABELS = 500;

/**
 * The most runtime entries with their own series: within OpenTelemetry's 2,000 attribute sets a metric also needs
 * room for the app's entries, the counted-together series and (beat) a few reasons of missed runs.
 */
export const MAX_ENTRY_LABELS = 1_500;

/**
 * What the one log line saying runtime entries are now counted together ends with: how to give each its own series
 * again (`setting` to at least `count`, then `restart`), or that `count` is past what any setting allows.
 */
export function raiseEntryLabels(setting: string, count: number, restart: string): string {
  return count <= MAX_ENTRY_LABELS
    ? `to give each its own series, set ${setting} to ${count} or more (at most ${MAX_ENTRY_LABELS}) and ${restart}`
    : `that is more than can have a series each (${setting} is at most ${MAX_ENTRY_LABELS})`;
}
