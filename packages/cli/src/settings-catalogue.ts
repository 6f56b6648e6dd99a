// Every setting of Nightshift, as the services and packages declare them. Only a composition root can list
// them all: the core knows none of its processes. Loaded on demand: it imports every service.
import { ALERTER_SETTINGS } from '@nightshift/alerter';
import { BEAT_SETTINGS } from '@nightshift/beat';
import { combineSettings, CORE_SETTINGS, type AnySetting } from '@nightshift/core';
import { HEALTH_API_SETTINGS } from '@nightshift/health-api';
import { STORE_SETTINGS } from '@nightshift/store';
import { WORKER_SETTINGS } from '@nightshift/worker';
import { CLI_SETTINGS } from './settings.ts';

/** Each service's settings, the shared ones included, by the name `nightshift up` knows it by. */
export const SERVICE_SETTINGS: ReadonlyMap<string, readonly AnySetting[]> = new Map([
  ['worker', WORKER_SETTINGS], ['beat', BEAT_SETTINGS], ['alerter', ALERTER_SETTINGS], ['health-api', HEALTH_API_SETTINGS],
]);

/** Every `NIGHTSHIFT_*` setting: the shared ones first, then the store's, each service's, the command's own. */
export const NIGHTSHIFT_SETTINGS: readonly AnySetting[] = combineSettings(CORE_SETTINGS, STORE_SETTINGS, ...SERVICE_SETTINGS.values(), CLI_SETTINGS);

/** The services that read `setting`, in `nightshift up`'s order; none for a setting of the command only. */
export function readers(setting: AnySetting): string[] {
  return [...SERVICE_SETTINGS].filter(([, settings]) => settings.includes(setting)).map(([service]) => service);
}
