import { readFileSync } from 'node:fs';
import { closest, errorOutcome, EXIT_FAILURE, EXIT_USAGE, settingText } from '@nightshift/core';
import { parseCommandArgs } from './arguments.ts';
import { CommandFailure, UsageError, type Command, type Io } from './command.ts';
import { commands as registeredCommands } from './commands/index.ts';
import { processIo } from './io.ts';
import { DEBUG } from './settings.ts';
import { commandUsage, generalUsage, HELP_USAGE } from './usage.ts';

/** Exit codes: 0 done, 1 something failed, 2 the command line or the configuration is wrong (core's table of error outcomes says which). */
export const EXIT_OK = 0;
export { EXIT_FAILURE, EXIT_USAGE };

/**
 * Runs one `nightshift` command line (without the `nightshift` itself) and resolves to the exit code.
 * Never throws: errors are printed to `io.stderr`, as one JSON object with `--json`.
 */
export async function main(argv: readonly string[], io: Io, commands: readonly Command[] = registeredCommands): Promise<number> {
  // Read from the raw arguments: a mistake in them is reported as they ask, before any parsing succeeds.
  const end = argv.indexOf('--');
  const options = end === -1 ? argv : argv.slice(0, end);
  const verbose = options.includes('--verbose') || debugging(io.env);
  try {
    return await dispatch(argv, io, commands);
  } catch (error) {
    return report(error, io, { verbose, json: options.includes('--json') });
  }
}

/** `NIGHTSHIFT_DEBUG`; a bad value is not this command's business to refuse (`nightshift config` reports it). */
function debugging(env: Io['env']): boolean {
  try {
    return DEBUG.read(settingText(DEBUG, env));
  } catch {
    return false;
  }
}

const HELP_HINT = 'nightshift help <command> prints the help of a command; nightshift --help lists the commands';

async function dispatch(argv: readonly string[], io: Io, commands: readonly Command[]): Promise<number> {
  // Options before the command: global ones, or common ones that are handed on to the command.
  let help = false;
  let version = false;
  const handedOn: string[] = [];
  let index = 0;
  for (; index < argv.length; index++) {
    const token = argv[index] as string;
    if (!token.startsWith('-')) break;
    if (token === '-h' || token === '--help') help = true;
    else if (token === '--version') version = true;
    else if (token === '--verbose' || token === '--json') handedOn.push(token);
    else {
      const suggestion = token.startsWith('--') ? closest(token.slice(2), ['help', 'version', 'verbose', 'json']) : undefined;
      throw new UsageError(`unknown option ${token}`, suggestion ? `did you mean --${suggestion}? (nightshift --help lists the options)` : 'nightshift --help lists the options');
    }
  }
  let name = argv[index];
  let rest = argv.slice(index + 1);
  if (name === 'help') {
    const [topic] = rest;
    if (topic === '--help' || topic === '-h') {
      io.stdout.write(HELP_USAGE);
      return EXIT_OK;
    }
    if (topic?.startsWith('-')) throw new UsageError(`unknown option ${topic} for "nightshift help"`, HELP_HINT);
    help = true;
    name = topic;
    rest = [];
  }
  if (name === undefined) {
    if (version) {
      io.stdout.write(`${cliVersion()}\n`);
      return EXIT_OK;
    }
    if (!help && handedOn.includes('--json')) throw new UsageError('no command given', 'nightshift --help lists the commands');
    (help ? io.stdout : io.stderr).write(generalUsage(commands));
    return help ? EXIT_OK : EXIT_USAGE;
  }
  const command = commands.find((c) => c.name === name);
  if (command === undefined) {
    const suggestion = closest(name, [...commands.map((c) => c.name), 'help']);
    const list = commands.map((c) => c.name).join(', ');
    throw new UsageError(`unknown command "${name}"`, suggestion ? `did you mean "nightshift ${suggestion}"? (commands: ${list})` : `the commands are: ${list} (nightshift --help says more)`);
  }
  const parsed = parseCommandArgs(command, [...handedOn, ...rest]);
  if (help || parsed.help) {
    io.stdout.write(commandUsage(command));
    return EXIT_OK;
  }
  return await command.run(parsed.args, io);
}

const STACK_HINT = '--verbose or NIGHTSHIFT_DEBUG=1 prints the stack';

/**
 * Prints an error and returns its exit code. Without `json`: `error: <message>` and the hint on the next line,
 * or, for an unexpected error, the hint (how to see the stack) or the stack itself. With `json`, one line on
 * stderr: `{"error": {"code", "message", "hint"}}`, code and hint `null` when the error has none, plus `stack`
 * where the plain line would show it.
 */
function report(error: unknown, io: Io, { verbose, json }: { readonly verbose: boolean; readonly json: boolean }): number {
  const { exitCode } = errorOutcome(error);
  // What the user must fix is explained by its message; so is a CommandFailure. Anything else offers its stack.
  const explained = exitCode === EXIT_USAGE || error instanceof CommandFailure;
  const message = error instanceof Error ? error.message : String(error);
  const hint = explained ? (error as { hint?: string }).hint : verbose ? undefined : STACK_HINT;
  const stack = !explained && verbose ? describe(error) : undefined;
  if (json) {
    const code = (error as { code?: unknown } | null)?.code;
    io.stderr.write(`${JSON.stringify({ error: { code: typeof code === 'string' ? code : null, message, hint: hint ?? null, ...(stack === undefined ? {} : { stack }) } })}\n`);
  } else if (stack !== undefined) {
    io.stderr.write(`error: ${stack}\n`);
  } else if (explained) {
    io.stderr.write(`error: ${message}\n${hint === undefined ? '' : `${hint}\n`}`);
  } else {
    io.stderr.write(`error: ${message} (${STACK_HINT})\n`);
  }
  return exitCode;
}

/** The stack, and the stacks of the causes, of an error. */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const own = error.stack ?? `${error.name}: ${error.message}`;
  return error.cause === undefined ? own : `${own}\ncaused by: ${describe(error.cause)}`;
}

function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
  return manifest.version ?? 'unknown';
}

/** The entry point of the `nightshift` binary: runs `process.argv` and exits with the command's code. */
export async function runMain(argv: readonly string[] = process.argv.slice(2), commands: readonly Command[] = registeredCommands): Promise<never> {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      // `nightshift --help | head -1` closes the pipe early; that is not an error.
      if (error.code === 'EPIPE') process.exit(process.exitCode ?? EXIT_OK);
      // The terminal was closed: the SIGHUP that comes with it stops the command, which must live on to stop
      // what it started (`up`'s services); its lines have nowhere to go.
      if (error.code === 'EIO') return;
      throw error;
    });
  }
  const code = await main(argv, processIo(), commands);
  // Exit rather than wait for the event loop to drain: an app module may hold sockets open.
  process.exit(code);
}

if (import.meta.main) await runMain();
