import type { AnyApp, Logger, SerializedError } from '@nightshift/core';
import { runTask, type SandboxJob, type SandboxResult } from './run-task.ts';
import type { WorkerOptions } from './options.ts';
import type { TaskProgress } from './task-progress.ts';
import { ThreadPool } from './thread-pool.ts';

/** How an attempt ended, seen from the worker: a result, its sandbox killed by us, or its sandbox dying on its own. */
export type SandboxOutcome =
  | SandboxResult
  | { readonly killed: true }
  | { readonly crashed: true; readonly error: SerializedError };

/** One attempt given to a pool. */
export interface SandboxRun {
  /**
   * Resolves `true` when the attempt starts in its sandbox (its limits count from then), or `false` if it
   * ended without starting (killed while it waited).
   */
  readonly started: Promise<boolean>;
  readonly outcome: Promise<SandboxOutcome>;
  /** Aborts `ctx.signal` with `reason` if the attempt is running; the task may clean up and return. */
  abort(reason: Error): void;
  /** Terminates the sandbox running it (thread pools), or forgets it if it waits; the outcome becomes `{ killed: true }`. */
  kill(): void;
  /**
   * Forgets the attempt if it has not started (the outcome becomes `{ killed: true }`); one its sandbox has
   * taken up runs on to its own outcome.
   */
  withdraw(): void;
}

export interface SandboxPool {
  /** Whether `kill` really stops a task that ignores its signal. */
  readonly canKill: boolean;
  /** Attempts the pool takes at once (running, or ready to start the moment a sandbox is free); may change. */
  readonly places: number;
  /** Told each new value of `places` (thread pools: as their tasks turn out quick or long). */
  onPlaces?: ((places: number) => void) | undefined;
  /** Resolves when every sandbox can run a task at once (the app loaded in each). */
  ready(): Promise<void>;
  /**
   * Takes an attempt; `onProgress` hears its `ctx.progress` reports while it runs. The first may come within this call
   * (the inline pool runs the task's first synchronous steps here), before `started` can be heard.
   */
  start(job: SandboxJob, onProgress?: (progress: TaskProgress) => void): SandboxRun;
  close(): Promise<void>;
}

/** The pool `options.pool` names, at `options.concurrency`: thread sandboxes start loading the app at once. */
export function createWorkerPool(app: AnyApp, options: WorkerOptions, log: Logger): SandboxPool {
  return options.pool === 'threads'
    ? createThreadPool({ size: options.concurrency, appPath: options.appPath, maxOldGenerationSizeMb: options.maxOldGenerationSizeMb, logLevel: options.logLevel }, log)
    : createInlinePool(app, options.concurrency, log, options.logLevel);
}

/** Worker threads: one task per thread at a time, the next ones ready behind it, a warm spare for a killed thread. */
export function createThreadPool(options: { size: number; appPath: string; maxOldGenerationSizeMb?: number | undefined; logLevel: string }, log: Logger): SandboxPool {
  return new ThreadPool(options.size, options, log);
}

/** Tasks on the worker's own event loop. `kill` stops waiting for the attempt but cannot stop the code. */
export function createInlinePool(app: AnyApp, size: number, log: Logger, logLevel = 'info'): SandboxPool {
  return {
    canKill: false,
    places: size,
    ready: () => Promise.resolve(),
    start(job, onProgress) {
      const controller = new AbortController();
      let giveUp: (outcome: SandboxOutcome) => void = () => {};
      const abandoned = new Promise<SandboxOutcome>((resolve) => { giveUp = resolve; });
      return {
        started: Promise.resolve(true),
        outcome: Promise.race([runTask(app, job, controller.signal, log, { logLevel, ...(onProgress ? { progress: onProgress } : {}) }), abandoned]),
        abort: (reason) => controller.abort(reason),
        kill: () => giveUp({ killed: true }),
        withdraw: () => {}, // started at once: nothing waits here
      };
    },
    close: async () => {},
  };
}
