import { combineSettings, CORE_SETTINGS, defineSetting, parsers, type AnySetting } from '@nightshift/core';
import { STORE_SETTINGS } from '@nightshift/store';

/** `NIGHTSHIFT_BEAT_RECONCILE`: how often beat reads the runtime schedules in full (`BeatOptions.reconcileEvery`). */
export const BEAT_RECONCILE = defineSetting({
  name: 'NIGHTSHIFT_BEAT_RECONCILE',
  description: 'how often beat reads the runtime schedules and pauses again in full, besides the notification of each change: a lost notification heals within it',
  parse: parsers.duration(100), default: '15s',
});

/**
 * Every setting beat reads: the shared ones, the store's (the runtime schedules live in PostgreSQL) and its own.
 * Its lease and claims are options of the app, not of the environment.
 */
export const BEAT_SETTINGS: readonly AnySetting[] = combineSettings(CORE_SETTINGS, STORE_SETTINGS, [BEAT_RECONCILE]);
