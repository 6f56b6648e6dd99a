import { describeUnknownSettings } from '@nightshift/core';

/**
 * One warning per `NIGHTSHIFT_*` variable of `env` that no part of Nightshift reads (a typo, most likely).
 * Said by the command that starts services, as only it knows every service's settings: under `up` or
 * compose, one environment serves them all, so a service alone would take its siblings' variables for typos.
 */
export async function unknownSettingWarnings(env: Readonly<Record<string, string | undefined>>): Promise<string[]> {
  // Loaded on demand: the catalogue imports every service.
  const { NIGHTSHIFT_SETTINGS } = await import('./settings-catalogue.ts');
  return describeUnknownSettings(env, NIGHTSHIFT_SETTINGS);
}
