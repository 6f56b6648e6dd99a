import { CORE_SETTINGS, type AnySetting } from '@nightshift/core';

/** Every setting beat reads: the shared ones (its lease and claims are options of the app, not of the environment). */
export const BEAT_SETTINGS: readonly AnySetting[] = CORE_SETTINGS;
