// A thread sandbox's task logger, loaded when the first line is written rather than before the sandbox is ready:
// pino, and `node:module` that its transports require, were a third of a sandbox's start-up on a busy 2-core
// machine (a profile: 56 of 231 ms compiling `node:module` alone), and most tasks never log. Lines written while it
// loads wait, in order, and are written with the time they were logged.
import { LOG_LEVELS, type Logger } from '@nightshift/core';

type Level = 'debug' | 'info' | 'warn' | 'error';

/** The part of a pino logger a sandbox uses: a child per task, bound to its ids. */
export interface RootLogger {
  child(bindings: Record<string, unknown>): Logger;
}

/** Loads the root logger; it stamps each line with `now()`. */
export type LoadRootLogger = (now: () => number) => Promise<RootLogger>;

interface WaitingLine {
  readonly write: () => void;
  readonly at: number;
}

/** The task loggers of one sandbox, sharing one root logger loaded on the first line at or above `level`. */
export class SandboxLog {
  readonly #minimum: number;
  readonly #load: LoadRootLogger;
  #root: RootLogger | undefined;
  #loading = false;
  #failed = false;
  readonly #waiting: WaitingLine[] = [];
  /** While a waiting line is written: when it was logged. */
  #stamp: number | undefined;

  constructor(level: string, load: LoadRootLogger) {
    this.#minimum = Math.max(0, LOG_LEVELS.indexOf(level as (typeof LOG_LEVELS)[number]));
    this.#load = load;
  }

  /** Whether the root logger has been loaded. */
  get loaded(): boolean {
    return this.#root !== undefined;
  }

  /** The logger of one task; `bindings` are read on its first line written (most tasks write none). */
  forTask(bindings: () => Record<string, unknown>): Logger {
    let child: Logger | undefined;
    const at = (level: Level) => (obj: object | string, msg?: string) => {
      if (LOG_LEVELS.indexOf(level) < this.#minimum || this.#failed) return;
      const write = () => {
        child ??= (this.#root as RootLogger).child(bindings());
        if (msg === undefined) child[level](obj);
        else child[level](obj, msg);
      };
      if (this.#root !== undefined && this.#waiting.length === 0) write();
      else this.#wait({ write, at: Date.now() });
    };
    return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  }

  #wait(line: WaitingLine): void {
    this.#waiting.push(line);
    if (this.#loading) return;
    this.#loading = true;
    this.#load(() => this.#stamp ?? Date.now()).then((root) => {
      this.#root = root;
      for (let next = this.#waiting.shift(); next; next = this.#waiting.shift()) {
        this.#stamp = next.at;
        try {
          next.write();
        } finally {
          this.#stamp = undefined;
        }
      }
    }, (error: unknown) => {
      // Not reached with an installation that loaded this module; said once, and the lines are not kept.
      process.stderr.write(`worker sandbox: the task logger could not be loaded (${error instanceof Error ? error.message : String(error)}); ${this.#waiting.length} task log lines not written\n`);
      this.#failed = true;
      this.#waiting.length = 0;
    });
  }
}
