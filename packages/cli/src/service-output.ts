import { StringDecoder } from 'node:string_decoder';
import type { Writer } from './command.ts';
import { readableLogLine } from './log-line.ts';

/** ANSI colours for prefixes, in the order names are given: cyan, magenta, yellow, green, blue, then bright ones. */
const PALETTE = [36, 35, 33, 32, 34, 96, 95, 93, 92, 94];
/** The name on the supervisor's lines that are about all services rather than one. */
export const SUPERVISOR_NAME = 'nightshift';

export interface ServiceOutputOptions {
  readonly stdout: Writer;
  readonly stderr: Writer;
  /** Every name that will be printed, so that prefixes line up and each name keeps one colour. */
  readonly names: readonly string[];
  /** Print every line as one JSON object instead of a prefixed line. Default: `false`. */
  readonly json?: boolean;
  /** Colour the prefixes. Default: `false`; see `wantsColor`. */
  readonly color?: boolean;
}

/** A stream of text cut into lines; `end()` prints a last line that had no newline. */
export interface LineSink {
  write(chunk: Buffer | string): void;
  end(): void;
}

/**
 * Where the supervisor and its services print: every line carries the name of the service it is about,
 * padded to line up (`worker      started`), or, with `json`, is one JSON object.
 */
export class ServiceOutput {
  readonly #stdout: Writer;
  readonly #stderr: Writer;
  readonly #json: boolean;
  readonly #prefixes = new Map<string, string>();
  readonly #width: number;
  readonly #color: boolean;

  constructor(options: ServiceOutputOptions) {
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
    this.#json = options.json ?? false;
    this.#color = options.color ?? false;
    this.#width = Math.max(...options.names.map((name) => name.length), SUPERVISOR_NAME.length) + 2;
    [SUPERVISOR_NAME, ...options.names].forEach((name) => this.#prefix(name));
  }

  /**
   * A line that a service printed on its `stream`; it goes to the same stream here. Without `json`, a JSON
   * log line is shown as a person reads it (`readableLogLine`); with `json`, it is passed on whole.
   */
  line(service: string, stream: 'stdout' | 'stderr', text: string): void {
    const writer = stream === 'stdout' ? this.#stdout : this.#stderr;
    if (this.#json) {
      writer.write(`${JSON.stringify({ time: new Date().toISOString(), service, stream, line: text })}\n`);
      return;
    }
    const prefix = this.#prefix(service);
    for (const line of (readableLogLine(text, { color: this.#color }) ?? text).split('\n')) writer.write(`${prefix}${line}\n`);
  }

  /** A line of the supervisor's own about `service` (or `SUPERVISOR_NAME`): `event` names it for JSON readers. */
  event(service: string, event: string, message: string, fields: Readonly<Record<string, unknown>> = {}): void {
    if (this.#json) this.#stdout.write(`${JSON.stringify({ time: new Date().toISOString(), service, event, message, ...fields })}\n`);
    else this.#stdout.write(`${this.#prefix(service)}${message}\n`);
  }

  /** Cuts a child's output into lines and prints each with `line`, handing it to `heard` as well. */
  lines(service: string, stream: 'stdout' | 'stderr', heard?: (line: string) => void): LineSink {
    const decoder = new StringDecoder('utf8');
    let pending = '';
    const print = (line: string) => {
      this.line(service, stream, line);
      heard?.(line);
    };
    const emit = (text: string) => {
      const lines = (pending + text).split('\n');
      pending = lines.pop() as string;
      for (const line of lines) print(line.endsWith('\r') ? line.slice(0, -1) : line);
    };
    return {
      write: (chunk) => emit(typeof chunk === 'string' ? chunk : decoder.write(chunk)),
      end: () => {
        emit(decoder.end());
        if (pending !== '') print(pending);
        pending = '';
      },
    };
  }

  #prefix(name: string): string {
    let prefix = this.#prefixes.get(name);
    if (prefix === undefined) {
      const padded = name.padEnd(this.#width);
      const color = PALETTE[this.#prefixes.size % PALETTE.length] as number;
      prefix = this.#color ? `\x1b[${color}m${padded}\x1b[0m` : padded;
      this.#prefixes.set(name, prefix);
    }
    return prefix;
  }
}

/** Colour only on a terminal, and never when `NO_COLOR` is set to anything (https://no-color.org). */
export function wantsColor(writer: Writer, env: Readonly<Record<string, string | undefined>>): boolean {
  return writer.isTTY === true && (env.NO_COLOR ?? '') === '';
}
