import { getCompileCacheDir } from 'node:module';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { Worker as Thread } from 'node:worker_threads';
import type { SerializedError } from '@nightshift/core';
import type { SandboxJob, SandboxResult } from './run-task.ts';
import type { FromSandbox, SandboxData, ToSandbox } from './sandbox-protocol.ts';
import type { TaskProgress } from './task-progress.ts';

// This module's own extension: .ts run from the sources, .js once compiled.
const entry = new URL(`./sandbox-entry${extname(import.meta.url)}`, import.meta.url);

/**
 * A sandbox's environment: the worker's, with Node's module compile cache on from the thread's first module
 * (this process's cache if it has one, else NODE_COMPILE_CACHE, else Node's default folder). A cold thread
 * compiling its modules is most of a worker's start-up and of a killed sandbox's replacement; from the cache,
 * every sandbox after the first in a folder loads them several times faster. NODE_DISABLE_COMPILE_CACHE=1 turns
 * it off; a folder that cannot be written is skipped by Node, never an error.
 */
function sandboxEnv(): NodeJS.ProcessEnv {
  if (process.env.NODE_DISABLE_COMPILE_CACHE) return process.env;
  const cache = getCompileCacheDir() ?? process.env.NODE_COMPILE_CACHE ?? join(tmpdir(), 'node-compile-cache');
  return { ...process.env, NODE_COMPILE_CACHE: cache };
}

/** What a sandbox thread tells its pool. Called at most once each for `ready` and `exit`. */
export interface SandboxThreadEvents {
  ready(thread: SandboxThread): void;
  done(thread: SandboxThread, id: string, result: SandboxResult): void;
  dropped(thread: SandboxThread, id: string): void;
  /** The task with this id, running in this thread, reported its progress. */
  progress(thread: SandboxThread, id: string, progress: TaskProgress): void;
  /** The thread is gone: it died on its own (`error` says how, if it said), or was terminated. */
  exit(thread: SandboxThread, error: Error | undefined): void;
}

/** Options of every thread of a pool. */
export interface SandboxThreadOptions {
  readonly appPath: string;
  readonly logLevel: string;
  readonly maxOldGenerationSizeMb?: number | undefined;
}

/**
 * The main thread's handle on one thread sandbox: spawns it (it loads the app at once), sends it tasks,
 * and terminates it. After `terminate` it says nothing more: a result still in flight is ignored.
 */
export class SandboxThread {
  readonly #thread: Thread;
  #ready = false;
  #gone = false;
  #lastError: Error | undefined;

  constructor(options: SandboxThreadOptions, events: SandboxThreadEvents) {
    this.#thread = new Thread(entry, {
      env: sandboxEnv(),
      workerData: { appPath: options.appPath, logLevel: options.logLevel } satisfies SandboxData,
      ...(options.maxOldGenerationSizeMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb } } : {}),
    });
    this.#thread.on('message', (message: FromSandbox) => {
      if (this.#gone) return;
      switch (message.type) {
        case 'ready':
          this.#ready = true;
          events.ready(this);
          return;
        case 'done':
          events.done(this, message.id, message.result);
          return;
        case 'dropped':
          events.dropped(this, message.id);
          return;
        case 'progress':
          events.progress(this, message.id, message.progress);
      }
    });
    this.#thread.on('error', (error) => { this.#lastError = error; });
    this.#thread.on('exit', (code) => {
      if (this.#gone) return;
      this.#gone = true;
      events.exit(this, this.#lastError ?? new Error(`the sandbox thread exited with code ${code}`));
    });
  }

  /** The app was loaded (even if the thread is gone since). */
  get loaded(): boolean {
    return this.#ready;
  }

  /** The app is loaded and the thread takes tasks. */
  get ready(): boolean {
    return this.#ready && !this.#gone;
  }

  /** Queues tasks to run one after another, in one message. */
  run(jobs: readonly SandboxJob[]): void {
    this.#send({ type: 'run', jobs });
  }

  abort(id: string, reason: SerializedError): void {
    this.#send({ type: 'abort', id, reason });
  }

  drop(id: string): void {
    this.#send({ type: 'drop', id });
  }

  /** Stops the thread wherever it is; it says nothing more, not even `exit`. */
  terminate(): Promise<void> {
    this.#gone = true;
    this.#thread.removeAllListeners('message');
    return this.#thread.terminate().then(() => {}, () => {});
  }

  #send(message: ToSandbox): void {
    if (!this.#gone) this.#thread.postMessage(message);
  }
}
