import { ConfigError } from './errors.ts';

/**
 * Reads one setting's text. Throws a `ConfigError` whose message starts with `name: ` when the text is not a
 * value of the setting; any other throw is reported as `name: <its message>`.
 */
export type SettingParser<T> = (raw: string, name: string) => T;

/**
 * How a secret setting is kept out of sight: what `nightshift config` shows in its place, and the parts of it
 * that logs and alerts redact wherever they appear.
 */
export interface Secrecy {
  /** The value as it may be shown: `***`, or the URL with `***` for its password. */
  mask(raw: string): string;
  /** The substrings that must never be shown (a password, a token). Short ones are left out by the redactor. */
  parts(raw: string): readonly string[];
}

/** What a package declares about one environment variable it reads. */
export interface SettingDeclaration<T> {
  /** The variable: `NIGHTSHIFT_PREFIX`. */
  readonly name: string;
  /** What it does, in one line (the README's settings table and `nightshift config` show it). */
  readonly description: string;
  readonly parse: SettingParser<T>;
  /** The value when the variable is unset or blank, written as it would be in the environment. Default: none. */
  readonly default?: string;
  /** The default in words, where it is no one value (`the CPU count`). Default: `default` itself. */
  readonly defaultText?: string;
  /** Present for a value that must never be logged or shown as it is. */
  readonly secret?: Secrecy;
}

/** A declared setting, its default compiled once. `read` gives its value from the variable's text. */
export interface Setting<T> {
  readonly name: string;
  readonly description: string;
  readonly default: string | undefined;
  /** How the default reads in documentation: `30s`, `the CPU count`, or `—` when there is none. */
  readonly defaultText: string;
  readonly secret: Secrecy | undefined;
  /**
   * The value of the variable's text; unset or blank gives the default.
   * @throws ConfigError naming the variable when the text is not a value of it.
   */
  read(raw: string | undefined): T;
}

/** Any declared setting, whatever its value type: what lists of settings hold. */
export type AnySetting = Setting<unknown>;

/** Declares a setting with a default: reading it always gives a value. */
export function defineSetting<T>(declaration: SettingDeclaration<T> & { readonly default: string }): Setting<T>;
/** Declares a setting without a default: unset, it reads as `undefined`. */
export function defineSetting<T>(declaration: SettingDeclaration<T>): Setting<T | undefined>;
/**
 * Declares a setting. A default that its own parser refuses is a bug in the declaration: it throws here,
 * when the declaring module loads, not when a process reads the variable.
 */
export function defineSetting<T>(declaration: SettingDeclaration<T>): Setting<T | undefined> {
  const { name, description, parse, secret } = declaration;
  if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new ConfigError(`setting ${JSON.stringify(name)}: a variable name is upper-case letters, digits and _`);
  const parseNamed = (raw: string): T => {
    try {
      return parse(raw, name);
    } catch (error) {
      if (error instanceof ConfigError) throw error;
      throw new ConfigError(`${name}: ${(error as Error).message}`, { field: name, cause: error });
    }
  };
  const fallback = declaration.default === undefined ? undefined : parseNamed(declaration.default);
  return Object.freeze({
    name, description, secret,
    default: declaration.default,
    defaultText: declaration.defaultText ?? declaration.default ?? '—',
    read(raw: string | undefined): T | undefined {
      const text = raw?.trim();
      return text === undefined || text === '' ? fallback : parseNamed(text);
    },
  });
}

/** The text of `setting` in `env`, trimmed, or `undefined` when unset or blank (which reads as the default). */
export function settingText(setting: AnySetting, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const text = env[setting.name]?.trim();
  return text === undefined || text === '' ? undefined : text;
}
