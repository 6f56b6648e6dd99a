import { ConfigError } from './errors.ts';
import { settingText, type Setting } from './setting.ts';

/**
 * Reads declared settings from an environment, each parsed once, and collects what is wrong instead of
 * stopping at the first problem, so a process reports every bad variable at once. A service reads the shared
 * settings (`readCoreConfig`) and its own through one collector, then `finish`es its configuration.
 */
export class ConfigProblems {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly #problems: { readonly variable: string; readonly message: string }[] = [];

  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.env = env;
  }

  /** One line per problem, each starting with the variable(s) at fault. */
  get problems(): readonly string[] {
    return this.#problems.map((problem) => problem.message);
  }

  /** The value of `setting` in the environment; a bad one is recorded and reads as the default. */
  read<T>(setting: Setting<T>): T {
    try {
      return setting.read(settingText(setting, this.env));
    } catch (error) {
      this.#problems.push({ variable: setting.name, message: (error as Error).message });
      return setting.read(undefined);
    }
  }

  /** Records a problem no single parser sees (settings that only go together). `message` starts with `variable`. */
  add(variable: string, message: string): void {
    this.#problems.push({ variable, message });
  }

  /**
   * The configuration, frozen, when nothing was recorded.
   * @throws ConfigError listing every recorded problem.
   */
  finish<C extends object>(config: C): Readonly<C> {
    if (this.#problems.length > 0) this.fail();
    return Object.freeze(config);
  }

  /** @throws ConfigError listing every recorded problem (`field`: the variable, when there is one). */
  fail(): never {
    const only = this.#problems.length === 1 ? this.#problems[0]?.variable : undefined;
    throw new ConfigError(`invalid configuration:\n  ${this.problems.join('\n  ')}`, { field: only });
  }
}
