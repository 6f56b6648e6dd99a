import { describeUnknownSetting, unknownSettings, type UnknownSetting } from '@nightshift/core';

/** An unknown `NIGHTSHIFT_*` variable and the warning that names it. */
export interface UnknownSettingWarning extends UnknownSetting {
  readonly message: string;
}

/**
 * The `NIGHTSHIFT_*` variables of `env` that no part of Nightshift reads (typos, most likely), each with its
 * warning. Said by the command that starts services, as only it knows every service's settings: under `up` or
 * compose, one environment serves them all, so a service alone would take its siblings' variables for typos.
 */
export async function unknownSettingWarnings(env: Readonly<Record<string, string | undefined>>): Promise<UnknownSettingWarning[]> {
  // Loaded on demand: the catalogue imports every service.
  const { NIGHTSHIFT_SETTINGS } = await import('./settings-catalogue.ts');
  return unknownSettings(env, NIGHTSHIFT_SETTINGS).map((unknown) => ({ ...unknown, message: describeUnknownSetting(unknown) }));
}
