import { parseLogRecord } from './log-line.ts';

/**
 * What a service printed last, for the one line that says why it stopped for good: its last message on
 * stderr (where the services write `<service>: <message>` before they exit on a configuration error), else
 * its last line on stdout, of which a JSON log line (pino) gives its `msg`.
 */
export class LastWords {
  #stderr: string | undefined;
  #stdout: string | undefined;

  /** Takes a line the service printed. An indented line on stderr continues the message above it (a list of problems). */
  heard(stream: 'stdout' | 'stderr', line: string): void {
    const text = line.trim();
    if (text === '') return;
    if (stream === 'stdout') this.#stdout = text;
    else if (/^\s/.test(line) && this.#stderr !== undefined) this.#stderr += `${this.#stderr.endsWith(':') ? ' ' : '; '}${text}`;
    else this.#stderr = text;
  }

  /** The last message, cut to `max` characters; `undefined` when the service printed nothing. */
  said(max = 500): string | undefined {
    const text = this.#stderr ?? (this.#stdout === undefined ? undefined : logMessage(this.#stdout));
    if (text === undefined || text.length <= max) return text;
    return `${text.slice(0, max - 1)}…`;
  }
}

/** A pino line's `msg` (with its error's message when the `msg` leaves it out); any other line as it is. */
function logMessage(line: string): string {
  const record = parseLogRecord(line);
  if (record === undefined) return line;
  const { msg, err } = record as { msg: string; err?: { message?: unknown } };
  const error = typeof err?.message === 'string' ? err.message : undefined;
  return error === undefined || msg.includes(error) ? msg : `${msg}: ${error}`;
}
