import type { ParseArgsOptionDescriptor, ParseArgsOptionsConfig } from 'node:util';

/** Something a command writes lines to: `process.stdout`, or a buffer in tests. */
export interface Writer {
  write(text: string): unknown;
  /** Colour is used only on a terminal. Default: not a terminal. */
  readonly isTTY?: boolean;
}

/**
 * The signals that ask a running command to stop: Ctrl-C, `kill`, and the terminal closing (SIGHUP), which
 * would otherwise end the command at once and leave the services it started running.
 */
export type Interrupt = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** Everything a command may touch of its process, so that tests can run commands in-process. */
export interface Io {
  readonly stdout: Writer;
  readonly stderr: Writer;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Relative paths on the command line are read from here. */
  readonly cwd: string;
  /**
   * Calls `listener` on every Ctrl-C (SIGINT), SIGTERM or SIGHUP until the returned function is called.
   * While a listener is registered, those signals do not end the process.
   */
  onInterrupt(listener: (signal: Interrupt) => void): () => void;
  /**
   * Asks the person at the terminal `question` (on stderr) and resolves with the line they type; `undefined` when
   * nobody is there to answer: standard input is not a terminal (a script, a pipe, cron).
   */
  ask(question: string): Promise<string | undefined>;
}

type OptionValue<D extends ParseArgsOptionDescriptor> = D['type'] extends 'string'
  ? (D['multiple'] extends true ? string[] : string)
  : (D['multiple'] extends true ? boolean[] : boolean);

/**
 * The parsed values of a command's options: present when the option has a default, optional otherwise.
 * For options not known statically (the registry's `Command`), any value parseArgs can produce.
 */
export type OptionValues<O extends ParseArgsOptionsConfig> = string extends keyof O
  ? { readonly [name: string]: string | boolean | string[] | boolean[] | undefined }
  : & { readonly [K in keyof O as O[K] extends { default: unknown } ? K : never]: OptionValue<O[K]> }
    & { readonly [K in keyof O as O[K] extends { default: unknown } ? never : K]?: OptionValue<O[K]> };

/** Options every command accepts; the dispatcher adds them and documents them under each command's usage. */
export interface CommonValues {
  /** `--json`: print results (and the command's own lines) as one JSON object per line; an error, as one on stderr. */
  readonly json: boolean;
  /** `--verbose` (or `NIGHTSHIFT_DEBUG=1`): unexpected errors print their stack. */
  readonly verbose: boolean;
}

export interface CommandArgs<O extends ParseArgsOptionsConfig = ParseArgsOptionsConfig> {
  readonly values: OptionValues<O> & CommonValues;
  readonly positionals: readonly string[];
}

/** One `nightshift <name>` command. Each lives in its own file under `src/commands/` and is listed in `src/commands/index.ts`. */
export interface Command<O extends ParseArgsOptionsConfig = ParseArgsOptionsConfig> {
  /** The word after `nightshift`: lower-case, kebab-case. */
  readonly name: string;
  /** One line for the command list of `nightshift --help`. */
  readonly summary: string;
  /** The full help: synopsis, options, examples. The dispatcher appends the common options (--json, --verbose, --help). */
  readonly usage: string;
  /** The command's own options, as `node:util` `parseArgs` takes them. */
  readonly options: O;
  /** Whether the command takes positional arguments. Default: `false` (any extra word is a usage error). */
  readonly positionals?: boolean;
  /**
   * Runs the command and resolves to the process exit code.
   * Throw `UsageError` or core's `ConfigError` for something the user must fix (exit 2), `CommandFailure` for a
   * failure its message explains (exit 1); any other error exits with the code core's `errorOutcome` gives it. The dispatcher prints them all,
   * as JSON under `--json`: a command never writes its own `error:` line.
   */
  run(args: CommandArgs<O>, io: Io): Promise<number> | number;
}

/**
 * Types `run`'s arguments from `options`, and returns the command as the registry holds it.
 * The cast is sound because the dispatcher parses with exactly `command.options`; TypeScript cannot
 * see it, as it takes the option types to be invariant.
 */
export function defineCommand<O extends ParseArgsOptionsConfig>(command: Command<O>): Command {
  return command as unknown as Command;
}

// The command's errors are defined in core, with the rest of the taxonomy and its table of outcomes.
export { UsageError, CommandFailure } from '@nightshift/core';
