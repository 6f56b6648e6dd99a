import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { eventually } from '@nightshift/test-helpers';
import type { Interrupt, Io, Writer } from '../src/command.ts';

/** A writer that keeps what it is given and can wait for a pattern to show up. */
export class Capture implements Writer {
  text = '';
  readonly isTTY: boolean;
  readonly #waiters = new Set<() => void>();

  constructor(isTTY = false) {
    this.isTTY = isTTY;
  }

  write(chunk: string): boolean {
    this.text += chunk;
    for (const waiter of [...this.#waiters]) waiter();
    return true;
  }

  lines(): string[] {
    return this.text.split('\n').filter((line) => line !== '');
  }

  /** The lines parsed as JSON objects. */
  /** The lines as JSON objects; throws unless every line is one JSON object (the README's `--json` contract). */
  records(): Array<Record<string, unknown>> {
    return this.lines().map((line, index) => {
      const record = JSON.parse(line) as unknown;
      if (typeof record !== 'object' || record === null || Array.isArray(record)) throw new Error(`--json line ${index + 1} is not one JSON object: ${line}`);
      return record as Record<string, unknown>;
    });
  }

  // 30 s: a line a child process prints once it has loaded the CLI took 2 s on a quiet machine and 9.8 s at a
  // load of 12 on 2 cores; the wait is for liveness, what is asserted comes after it.
  waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!pattern.test(this.text)) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${pattern} within ${timeoutMs}ms; got:\n${this.text}`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }
}

export interface TestIo extends Io {
  readonly stdout: Capture;
  readonly stderr: Capture;
  /** Delivers a signal to the command's interrupt listeners, as Ctrl-C or `kill` would. */
  interrupt(signal: Interrupt): void;
}

/**
 * An `Io` for a command run in-process. `answers`: what the person at the terminal types, one per question, in
 * order; without it, standard input is not a terminal (nobody answers).
 */
export function testIo(options: { env?: Record<string, string | undefined>; cwd?: string; tty?: boolean; answers?: string[] } = {}): TestIo {
  const signals = new EventEmitter();
  const answers = options.answers === undefined ? undefined : [...options.answers];
  return {
    stdout: new Capture(options.tty),
    stderr: new Capture(options.tty),
    env: options.env ?? {},
    cwd: options.cwd ?? process.cwd(),
    onInterrupt(listener) {
      signals.on('interrupt', listener);
      return () => signals.off('interrupt', listener);
    },
    interrupt(signal) {
      signals.emit('interrupt', signal);
    },
    async ask(question) {
      if (answers === undefined) return undefined;
      this.stderr.write(question);
      const answer = answers.shift();
      if (answer === undefined) throw new Error(`the test gave no answer to: ${question}`);
      this.stderr.write(`${answer}\n`);
      return answer;
    },
  };
}

/** Whether a process of that id is still running (a zombie waiting for a parent that never reaps it is not). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return true;
  }
}

/** Resolves once `condition()` holds, checking every 20 ms; rejects after `timeoutMs`. */
export async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<void> {
  await eventually('the condition', condition, timeoutMs, 20);
}
