import { spawn, type ChildProcess } from 'node:child_process';
import { Backoff } from '@nightshift/core';
import { LastWords } from './last-words.ts';
import { readableDuration } from './readable-duration.ts';
import type { ServiceOutput } from './service-output.ts';

/** A process to keep running. */
export interface ServiceSpec {
  /** Names the service on every line it prints. */
  readonly name: string;
  /** The executable, e.g. `process.execPath`. */
  readonly command: string;
  readonly args: readonly string[];
  /** Set on top of the supervisor's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface RestartPolicy {
  /** The wait before restarting a child that exited unexpectedly. Default: 1 s. */
  readonly initialDelayMs: number;
  /** The wait doubles with each further crash, up to this. Default: 30 s. */
  readonly maxDelayMs: number;
  /** A child that stayed up at least this long before it exited is restarted after `initialDelayMs` again. Default: 60 s. */
  readonly resetAfterMs: number;
}

export const DEFAULT_RESTART: RestartPolicy = Object.freeze({ initialDelayMs: 1_000, maxDelayMs: 30_000, resetAfterMs: 60_000 });
export const DEFAULT_GRACE_PERIOD_MS = 10_000;

export interface SupervisorOptions {
  readonly output: ServiceOutput;
  readonly restart?: Partial<RestartPolicy>;
  /** How long a stop waits for children to exit after SIGTERM before it kills them. Default: 10 s. */
  readonly gracePeriodMs?: number;
  /**
   * Exit codes that no restart can fix, each with what it means, e.g. `{ 2: 'a configuration error' }`: a child
   * that exits with one is not restarted; the supervisor says what it printed last and stops the others.
   * Default: none (every exit is restarted).
   */
  readonly fatalExitCodes?: Readonly<Record<number, string>>;
  /** The environment of every child, under its own `env`. Default: `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The working directory of every child. Default: `process.cwd()`. */
  readonly cwd?: string;
}

export interface StopResult {
  /** Services that were killed: they ignored SIGTERM for the whole grace period, or `kill()` was called. */
  readonly killed: readonly string[];
  /** The exit that stopped the supervisor, when a child exited with one of `fatalExitCodes`. */
  readonly fatal?: FatalExit;
}

/** A child's exit with one of the `fatalExitCodes`. */
export interface FatalExit {
  readonly service: string;
  readonly code: number;
  /** What the code means, from `fatalExitCodes`. */
  readonly meaning: string;
  /** What the child printed last (see `LastWords`); `undefined` when it printed nothing. */
  readonly said: string | undefined;
}

/** One supervised service: its current child, if any, and its place on the backoff. */
interface Slot {
  readonly spec: ServiceSpec;
  child: ChildProcess | undefined;
  startedAt: number;
  /** Unexpected exits in a row, each after less than `resetAfterMs` up: the place on the backoff. */
  crashes: number;
  restarts: number;
  restartTimer: NodeJS.Timeout | undefined;
  spawnError: Error | undefined;
  /** What the current child printed last. */
  lastWords: LastWords;
}

/**
 * Runs services as child processes and keeps them running: each line they print is prefixed with
 * the service name; a child that exits unexpectedly is restarted with exponential backoff;
 * a child that exits with one of `fatalExitCodes` is not, and the others are stopped;
 * `stop()` sends SIGTERM to every child and kills those still running after the grace period.
 *
 * Each child leads its own process group: Ctrl-C in the terminal reaches the supervisor only, which
 * then stops the children in order; and a kill takes the child's own subprocesses with it. Each child's
 * stdin is a pipe that the supervisor never writes to: it ends when the supervisor ends, however it ends,
 * so that a child can stop with it (see stop-with-parent.ts).
 */
export class Supervisor {
  readonly #slots: Slot[];
  readonly #output: ServiceOutput;
  readonly #restart: RestartPolicy;
  readonly #backoff: Backoff;
  readonly #gracePeriodMs: number;
  readonly #fatalExitCodes: Readonly<Record<number, string>>;
  readonly #env: Readonly<Record<string, string | undefined>>;
  readonly #cwd: string;
  #started = false;
  #stopping = false;
  #graceTimer: NodeJS.Timeout | undefined;
  readonly #killed = new Set<string>();
  #fatal: FatalExit | undefined;
  readonly #done: Promise<StopResult>;
  #resolveDone: (result: StopResult) => void = () => {};

  constructor(services: readonly ServiceSpec[], options: SupervisorOptions) {
    const names = new Set(services.map((s) => s.name));
    if (names.size !== services.length) throw new TypeError('Supervisor: two services have the same name');
    this.#output = options.output;
    this.#restart = Object.freeze({ ...DEFAULT_RESTART, ...options.restart });
    this.#backoff = new Backoff({ base: this.#restart.initialDelayMs, factor: 2, max: this.#restart.maxDelayMs, jitter: 0 }, 'restart');
    this.#gracePeriodMs = options.gracePeriodMs ?? DEFAULT_GRACE_PERIOD_MS;
    this.#fatalExitCodes = Object.freeze({ ...options.fatalExitCodes });
    this.#env = options.env ?? process.env;
    this.#cwd = options.cwd ?? process.cwd();
    this.#slots = services.map((spec) => ({
      spec, child: undefined, startedAt: 0, crashes: 0, restarts: 0, restartTimer: undefined, spawnError: undefined,
      lastWords: new LastWords(),
    }));
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  /** Starts every service. Resolves once they have all been stopped by `stop()`, `kill()` or a fatal exit. */
  start(): Promise<StopResult> {
    if (this.#started) throw new Error('Supervisor: already started');
    this.#started = true;
    for (const slot of this.#slots) this.#spawn(slot);
    return this.#done;
  }

  /** Sends SIGTERM to every child and resolves once all have exited; those still running after the grace period are killed. */
  stop(): Promise<StopResult> {
    if (this.#stopping) return this.#done;
    this.#beginStop();
    const running = this.#slots.filter((slot) => slot.child !== undefined);
    for (const slot of running) slot.child?.kill('SIGTERM');
    if (running.length > 0) {
      this.#graceTimer = setTimeout(() => {
        for (const slot of this.#slots.filter((s) => s.child !== undefined)) {
          this.#output.event(slot.spec.name, 'killed', `still running ${readableDuration(this.#gracePeriodMs)} after SIGTERM; killing it`, { gracePeriodMs: this.#gracePeriodMs });
          this.#killGroup(slot, true);
        }
      }, this.#gracePeriodMs);
    }
    this.#settleIfIdle();
    return this.#done;
  }

  /** Kills every child at once (SIGKILL, with its subprocesses); resolves like `stop()`. */
  kill(): Promise<StopResult> {
    if (!this.#stopping) this.#beginStop();
    for (const slot of this.#slots.filter((s) => s.child !== undefined)) this.#killGroup(slot, true);
    this.#settleIfIdle();
    return this.#done;
  }

  #beginStop(): void {
    this.#stopping = true;
    for (const slot of this.#slots) {
      clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
    }
  }

  #spawn(slot: Slot): void {
    const { spec } = slot;
    slot.spawnError = undefined;
    slot.startedAt = Date.now();
    const lastWords = new LastWords();
    slot.lastWords = lastWords;
    const child = spawn(spec.command, [...spec.args], {
      cwd: this.#cwd,
      env: { ...this.#env, ...spec.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
    });
    slot.child = child;
    // Never written to; see the class comment.
    child.stdin?.on('error', () => {});
    const stdout = this.#output.lines(spec.name, 'stdout', (line) => lastWords.heard('stdout', line));
    const stderr = this.#output.lines(spec.name, 'stderr', (line) => lastWords.heard('stderr', line));
    child.stdout?.on('data', (chunk: Buffer) => stdout.write(chunk));
    child.stdout?.on('end', () => stdout.end());
    child.stderr?.on('data', (chunk: Buffer) => stderr.write(chunk));
    child.stderr?.on('end', () => stderr.end());
    child.on('error', (error) => {
      slot.spawnError = error;
    });
    if (child.pid !== undefined) {
      this.#output.event(spec.name, 'started', `started (pid ${child.pid})${slot.restarts > 0 ? `, restart ${slot.restarts}` : ''}`, { pid: child.pid, restarts: slot.restarts });
    }
    // Subprocesses the child leaves behind would hold its output pipes open, and 'close' would never come.
    child.on('exit', () => this.#killGroup(slot, false));
    child.on('close', (code, signal) => this.#onClose(slot, child, code, signal));
  }

  #onClose(slot: Slot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.child = undefined;
    const name = slot.spec.name;
    const uptimeMs = Date.now() - slot.startedAt;
    if (this.#stopping) {
      const clean = !slot.spawnError && (code === 0 || signal === 'SIGTERM');
      const how = slot.spawnError ? `could not start: ${slot.spawnError.message}` : signal ? `was ended by ${signal}` : `exited with code ${code}`;
      this.#output.event(name, 'stopped', clean ? 'stopped' : `stopped: it ${how}`, { code, signal });
      this.#settleIfIdle();
      return;
    }
    const meaning = code === null || slot.spawnError ? undefined : this.#fatalExitCodes[code];
    if (code !== null && meaning !== undefined) {
      this.#giveUp({ service: name, code, meaning, said: slot.lastWords.said() });
      return;
    }
    slot.crashes = uptimeMs >= this.#restart.resetAfterMs ? 1 : slot.crashes + 1;
    const delayMs = this.#backoff.delay(slot.crashes);
    slot.restarts += 1;
    const how = slot.spawnError
      ? `could not start: ${slot.spawnError.message}`
      : `${signal ? `ended unexpectedly (${signal})` : `exited unexpectedly (code ${code})`} after ${readableDuration(uptimeMs)}`;
    this.#output.event(name, 'restarting', `${how}; restarting in ${readableDuration(delayMs)}`, {
      code, signal, uptimeMs, delayMs, restarts: slot.restarts, ...(slot.spawnError ? { error: slot.spawnError.message } : {}),
    });
    slot.restartTimer = setTimeout(() => {
      slot.restartTimer = undefined;
      if (!this.#stopping) this.#spawn(slot);
    }, delayMs);
  }

  /** A child exited in a way no restart can fix: one line on why, then everything stops. */
  #giveUp(fatal: FatalExit): void {
    this.#fatal = fatal;
    const others = this.#slots.filter((slot) => slot.child !== undefined).map((slot) => slot.spec.name);
    const said = fatal.said === undefined ? 'it printed nothing' : `it said: ${fatal.said}`;
    const then = others.length > 0 ? `; stopping ${others.join(', ')}` : '';
    this.#output.event(fatal.service, 'fatal', `exited with code ${fatal.code} (${fatal.meaning}), which a restart cannot fix; ${said}${then}`, {
      code: fatal.code, meaning: fatal.meaning, said: fatal.said ?? null,
    });
    void this.stop();
  }

  /** SIGKILLs the child's process group; `leaderToo` false reaps only what the exited child left behind. */
  #killGroup(slot: Slot, leaderToo: boolean): void {
    const pid = slot.child?.pid;
    if (pid === undefined) return;
    if (leaderToo) this.#killed.add(slot.spec.name);
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // The group is already gone.
    }
  }

  #settleIfIdle(): void {
    if (!this.#stopping || this.#slots.some((slot) => slot.child !== undefined)) return;
    clearTimeout(this.#graceTimer);
    this.#resolveDone({ killed: [...this.#killed], ...(this.#fatal ? { fatal: this.#fatal } : {}) });
  }
}
