import type { Logger } from '@nightshift/core';
import { compileRedaction, redactWith, type Redaction } from '@nightshift/telemetry/redact';

/** One line a task wrote through `ctx.log`, as its run keeps it. */
export interface TaskLogLine {
  /** ISO 8601. */
  readonly at: string;
  readonly level: JournalLevel;
  readonly msg: string;
  /** The object logged with the line (errors as name, message and stack), secrets redacted, cut to a readable size. */
  readonly fields?: Readonly<Record<string, unknown>>;
}

/** What an attempt logged: its first lines, and how many more were left out. */
export interface TaskLogs {
  readonly lines: readonly TaskLogLine[];
  readonly dropped: number;
}

type JournalLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: readonly JournalLevel[] = ['debug', 'info', 'warn', 'error'];

/** Bounds of one attempt's journal: a task that logs in a loop keeps its first lines, and its run stays small. */
export const JOURNAL_LIMITS = Object.freeze({ lines: 100, bytes: 16_384, lineChars: 1_000 });

// Key names and URL passwords: the rules every log line follows. The health-api's recorder adds the
// deployment's own keys and secret values when it stores the lines.
const REDACTION: Redaction = compileRedaction();

/**
 * The lines a task writes through `ctx.log` during one attempt, kept (bounded, redacted) to travel with the
 * attempt's outcome into its run's history, while every line still goes to the worker's log as before.
 * Lines below `level` are not kept, as they are not logged.
 */
export class TaskJournal {
  readonly #lines: TaskLogLine[] = [];
  readonly #minimum: number;
  #bytes = 0;
  #dropped = 0;

  constructor(level: string) {
    const index = LEVELS.indexOf(level as JournalLevel);
    // trace keeps everything; fatal and silent keep only what the logger would still write (errors at most).
    this.#minimum = index === -1 ? (level === 'trace' ? 0 : LEVELS.length) : index;
  }

  /** A logger that writes to `inner` and keeps each line here. */
  tee(inner: Logger): Logger {
    const at = (level: JournalLevel) => (obj: object | string, msg?: string) => {
      if (msg === undefined) inner[level](obj);
      else inner[level](obj, msg);
      this.#keep(level, obj, msg);
    };
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  }

  /** What was kept, or `undefined` when the attempt logged nothing worth keeping. */
  take(): TaskLogs | undefined {
    if (this.#lines.length === 0 && this.#dropped === 0) return undefined;
    return { lines: this.#lines, dropped: this.#dropped };
  }

  #keep(level: JournalLevel, obj: object | string, msg: string | undefined): void {
    if (LEVELS.indexOf(level) < this.#minimum) return;
    if (this.#lines.length >= JOURNAL_LIMITS.lines || this.#bytes >= JOURNAL_LIMITS.bytes) {
      this.#dropped++;
      return;
    }
    const text = typeof obj === 'string' ? obj : (msg ?? '');
    const fields = typeof obj === 'string' ? undefined : plainFields(obj);
    const line: TaskLogLine = {
      at: new Date().toISOString(), level, msg: cut(redactWith(text, REDACTION) as string, JOURNAL_LIMITS.lineChars),
      ...(fields === undefined ? {} : { fields }),
    };
    this.#bytes += line.msg.length + (fields === undefined ? 0 : JSON.stringify(fields).length);
    this.#lines.push(line);
  }
}

/** The logged object as JSON can carry it: redacted, errors readable, cut to one line's worth of characters. */
function plainFields(obj: object): Record<string, unknown> | undefined {
  let json: string | undefined;
  try {
    json = JSON.stringify(redactWith(obj, REDACTION), (_key, value: unknown) =>
      (value instanceof Error ? { name: value.name, message: value.message, stack: value.stack } : value));
  } catch {
    return { unreadable: 'the logged object could not be turned into JSON' };
  }
  if (json === undefined || json === '{}') return undefined;
  if (json.length > JOURNAL_LIMITS.lineChars) return { truncated: cut(json, JOURNAL_LIMITS.lineChars) };
  return JSON.parse(json) as Record<string, unknown>;
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
