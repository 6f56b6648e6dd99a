// What can be said of a list of declared settings as a whole: which variables of an environment none of them
// reads, what each is in effect and where that came from, and which values must be redacted.
import { closest } from './did-you-mean.ts';
import { ConfigError } from './errors.ts';
import { settingText, type AnySetting } from './setting.ts';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * One list of the settings of several packages or services, each once, in the order first met. The same
 * declaration may come from several lists (the shared ones do).
 * @throws ConfigError when two different declarations use one variable name.
 */
export function combineSettings(...lists: readonly (readonly AnySetting[])[]): readonly AnySetting[] {
  const byName = new Map<string, AnySetting>();
  for (const setting of lists.flat()) {
    const known = byName.get(setting.name);
    if (known !== undefined && known !== setting) throw new ConfigError(`${setting.name} is declared twice`, { field: setting.name });
    byName.set(setting.name, setting);
  }
  return Object.freeze([...byName.values()]);
}

/** A `NIGHTSHIFT_*` variable no declared setting reads, with the declared one it most likely meant. */
export interface UnknownSetting {
  readonly name: string;
  readonly didYouMean: string | undefined;
}

/** The `NIGHTSHIFT_*` variables of `env` that none of `settings` reads: typos, most likely (`NIGHTSHIFT_PREFX`). */
export function unknownSettings(env: Env, settings: readonly AnySetting[]): UnknownSetting[] {
  const names = settings.map((setting) => setting.name);
  const known = new Set(names);
  return Object.keys(env)
    .filter((name) => name.startsWith('NIGHTSHIFT_') && !known.has(name))
    .sort()
    .map((name) => ({ name, didYouMean: closest(name, names) }));
}

/** The warning for an unknown setting: `NIGHTSHIFT_PREFX is not a Nightshift setting and is ignored (did you mean NIGHTSHIFT_PREFIX?)`. */
export function describeUnknownSetting({ name, didYouMean }: UnknownSetting): string {
  return `${name} is not a Nightshift setting and is ignored${didYouMean ? ` (did you mean ${didYouMean}?)` : ''}`;
}

/** One warning line per unknown setting of `env`. */
export function describeUnknownSettings(env: Env, settings: readonly AnySetting[]): string[] {
  return unknownSettings(env, settings).map(describeUnknownSetting);
}

/** Where a setting's value in effect comes from. */
export type SettingSource = 'environment' | 'default';

/** A setting as it is in effect, safe to show: secrets masked. */
export interface SettingState {
  readonly setting: AnySetting;
  /** The text in effect, masked when secret; `undefined` when unset without a one-value default. */
  readonly shown: string | undefined;
  readonly source: SettingSource;
  /** Why the text in the environment is refused (the message names the variable). */
  readonly problem: string | undefined;
}

/** Each setting's value in effect in `env`, and where it came from. Never throws: a bad value is described. */
export function settingStates(settings: readonly AnySetting[], env: Env): SettingState[] {
  return settings.map((setting) => {
    const raw = settingText(setting, env);
    const text = raw ?? setting.default;
    let problem: string | undefined;
    try {
      setting.read(raw);
    } catch (error) {
      problem = (error as Error).message;
    }
    return {
      setting,
      shown: text === undefined || setting.secret === undefined ? text : setting.secret.mask(text),
      source: raw === undefined ? 'default' : 'environment',
      problem,
    };
  });
}

/**
 * The values in `env` (or the defaults) of the secret ones among `settings`, for the log and alert redactors:
 * passwords in URLs, tokens. Values under 4 characters are left out: redacting them would mangle ordinary text.
 */
export function secretValues(settings: readonly AnySetting[], env: Env): string[] {
  const secrets = settings.flatMap((setting) => {
    const text = settingText(setting, env) ?? setting.default;
    return setting.secret === undefined || text === undefined ? [] : setting.secret.parts(text);
  });
  return [...new Set(secrets)].filter((secret) => secret.length >= 4);
}
