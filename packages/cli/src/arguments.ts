import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { UsageError, type Command, type CommandArgs } from './command.ts';
import { closest } from '@nightshift/core';

/** Options every command takes, besides its own. */
export const COMMON_OPTIONS = {
  json: { type: 'boolean', default: false },
  verbose: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsOptionsConfig;

export const COMMON_USAGE = `Common options:
      --json      print results, and the command's own lines, as one JSON object per line; an error
                  as one on stderr: {"error": {"code", "message", "hint"}}
      --verbose   print the stack of an unexpected error (also: NIGHTSHIFT_DEBUG=1)
  -h, --help      print this help`;

export interface ParsedCommandLine {
  readonly args: CommandArgs;
  /** `--help` was given: print the usage instead of running. */
  readonly help: boolean;
}

/**
 * Parses the arguments after the command name. Mistakes become a `UsageError` in words,
 * with the closest option name as a hint for an unknown option.
 */
export function parseCommandArgs(command: Command, argv: readonly string[]): ParsedCommandLine {
  const options: ParseArgsOptionsConfig = { ...command.options, ...COMMON_OPTIONS };
  const seeHelp = `run "nightshift ${command.name} --help" for its options`;
  // A lenient pass first: it yields tokens, so every mistake can be named in our words.
  const { tokens } = parseArgs({ args: [...argv], options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind === 'option') {
      const descriptor = options[token.name];
      if (descriptor === undefined) {
        const suggestion = token.rawName.startsWith('--') ? closest(token.name, Object.keys(options)) : undefined;
        throw new UsageError(`unknown option ${token.rawName} for "nightshift ${command.name}"`, suggestion ? `did you mean --${suggestion}? (${seeHelp})` : seeHelp);
      }
      if (descriptor.type === 'string' && token.value === undefined) throw new UsageError(`${token.rawName} needs a value`, seeHelp);
      if (descriptor.type === 'string' && token.inlineValue === false && token.value?.startsWith('-')) {
        throw new UsageError(`${token.rawName} needs a value, not the option ${token.value}`, `write ${token.rawName}=${token.value} if that is the value`);
      }
      if (descriptor.type === 'boolean' && token.inlineValue) throw new UsageError(`${token.rawName} takes no value`, seeHelp);
    } else if (token.kind === 'positional' && command.positionals !== true) {
      throw new UsageError(`"nightshift ${command.name}" takes no arguments, got ${JSON.stringify(token.value)}`, seeHelp);
    }
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: command.positionals === true });
  } catch (error) {
    // Cases the token pass cannot see, e.g. `--app --json` (a value that looks like an option).
    const message = error instanceof Error ? error.message.split(/\.\s/)[0] ?? error.message : String(error);
    throw new UsageError(message.replace(/^Option /, 'option '), seeHelp);
  }
  const { help, ...values } = parsed.values;
  return { args: { values: values as CommandArgs['values'], positionals: parsed.positionals }, help: help === true };
}

/** The `--app` path a command cannot run without, or a `UsageError` saying how to give it. */
export function requireApp(values: { readonly app?: string | undefined }, command: string): string {
  const app = values.app;
  if (typeof app !== 'string') {
    throw new UsageError(`"nightshift ${command}" needs --app <path>: the module whose default export is your app`, `e.g. nightshift ${command} --app examples/factory/app.ts`);
  }
  return app;
}
