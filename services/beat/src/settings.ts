import { combineSettings, CORE_SETTINGS, defineSetting, parsers, type AnySetting } from '@nightshift/core';
import { STORE_SETTINGS } from '@nightshift/store';
import { BEAT_DEFAULTS, MAX_ENTRY_LABELS } from './options.ts';

/** `NIGHTSHIFT_BEAT_RECONCILE`: how often beat reads the runtime schedules in full (`BeatOptions.reconcileEvery`). */
export const BEAT_RECONCILE = defineSetting({
  name: 'NIGHTSHIFT_BEAT_RECONCILE',
  description: 'how often beat reads the runtime schedules and pauses again in full, besides the notification of each change: a lost notification heals within it',
  parse: parsers.duration(100), default: '15s',
});

/** `NIGHTSHIFT_BEAT_ENTRY_LABELS`: how many runtime entries have their own series in beat's metrics (`BeatOptions.entryLabels`). */
export const BEAT_ENTRY_LABELS = defineSetting({
  name: 'NIGHTSHIFT_BEAT_ENTRY_LABELS',
  description: `how many runtime schedule entries have their own series in beat's metrics (\`entry\` label), at most ${MAX_ENTRY_LABELS}; with more, all runtime entries are counted together as \`entry="(runtime)"\` (said once in beat's log) and each one's runs are in its schedule history`,
  parse: parsers.wholeNumber(0, MAX_ENTRY_LABELS), default: String(BEAT_DEFAULTS.entryLabels),
});

/**
 * Every setting beat reads: the shared ones, the store's (the runtime schedules live in PostgreSQL) and its own.
 * Its lease and claims are options of the app, not of the environment.
 */
export const BEAT_SETTINGS: readonly AnySetting[] = combineSettings(CORE_SETTINGS, STORE_SETTINGS, [BEAT_RECONCILE, BEAT_ENTRY_LABELS]);
