import { COMMON_USAGE } from './arguments.ts';
import type { Command } from './command.ts';

/** `nightshift --help`: what Nightshift is, the commands, the global options. */
export function generalUsage(commands: readonly Command[]): string {
  const rows: Array<[string, string]> = [...commands.map((c): [string, string] => [c.name, c.summary]), ['help', 'print the help of a command: nightshift help <command>']];
  const width = Math.max(...rows.map(([name]) => name.length)) + 2;
  return `nightshift: background work that runs itself, protects itself, and tells you when it is broken

Usage: nightshift <command> [options]

Commands:
${rows.map(([name, summary]) => `  ${name.padEnd(width)}${summary}`).join('\n')}

Options:
  -h, --help      print this help (nightshift <command> --help prints a command's)
      --version   print the version
      --verbose   print the stack of an unexpected error (also: NIGHTSHIFT_DEBUG=1)
`;
}

/** `nightshift <command> --help`: the command's own usage, then the options every command takes. */
export function commandUsage(command: Command): string {
  return `${command.usage.trim()}\n\n${COMMON_USAGE}\n`;
}

/** `nightshift help --help`. */
export const HELP_USAGE = `Usage: nightshift help [<command>]

Prints the help of a command, as nightshift <command> --help does; without a command, what
nightshift --help prints: the commands and the global options.

Examples:
  nightshift help up
  nightshift help
`;
