import { randomUUID } from 'node:crypto';
import { extname } from 'node:path';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { serializeError, type AnyApp, type Logger, type SerializedError } from '@nightshift/core';
import { runTask, type SandboxJob, type SandboxResult } from './run-task.ts';
import type { AbortMessage, SandboxMessage } from './sandbox-entry.ts';

/** How an attempt ended, seen from the worker: a result, its sandbox killed by us, or its sandbox dying on its own. */
export type SandboxOutcome =
  | SandboxResult
  | { readonly killed: true }
  | { readonly crashed: true; readonly error: SerializedError };

/** One attempt in flight. */
export interface SandboxRun {
  readonly outcome: Promise<SandboxOutcome>;
  /** Aborts `ctx.signal` with `reason`; the task may clean up and return. */
  abort(reason: Error): void;
  /** Terminates the sandbox (thread pools); the outcome becomes `{ killed: true }`. */
  kill(): void;
}

export interface SandboxPool {
  /** Whether `kill` really stops a task that ignores its signal. */
  readonly canKill: boolean;
  start(job: SandboxJob): SandboxRun;
  close(): Promise<void>;
}

/** Worker threads via piscina: one task per thread at a time, a killed thread is replaced. */
export function createThreadPool(options: { size: number; maxOldGenerationSizeMb?: number | undefined; logLevel: string }): SandboxPool {
  const piscina = new Piscina<SandboxMessage, SandboxResult>({
    // This module's own extension: .ts run from the sources, .js once compiled.
    filename: new URL(`./sandbox-entry${extname(import.meta.url)}`, import.meta.url).href,
    minThreads: options.size,
    maxThreads: options.size,
    concurrentTasksPerWorker: 1,
    idleTimeout: Number.POSITIVE_INFINITY,
    // Tasks keep async handles (pools, sockets) between calls; a thread must not block while idle.
    atomics: 'disabled',
    workerData: { logLevel: options.logLevel },
    ...(options.maxOldGenerationSizeMb ? { resourceLimits: { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb } } : {}),
  });
  const channelName = `nightshift-sandbox-${randomUUID()}`;
  const aborts = new BroadcastChannel(channelName);
  aborts.unref();
  return {
    canKill: true,
    start(job) {
      const killer = new AbortController();
      const outcome: Promise<SandboxOutcome> = piscina.run({ job, channel: channelName }, { signal: killer.signal }).then(
        (result) => result,
        (error: unknown) => (killer.signal.aborted ? { killed: true as const } : { crashed: true as const, error: serializeError(error) }),
      );
      return {
        outcome,
        abort: (reason) => aborts.postMessage({ id: job.envelope.id, abort: serializeError(reason) } satisfies AbortMessage),
        kill: () => killer.abort(),
      };
    },
    close: async () => {
      aborts.close();
      await piscina.destroy();
    },
  };
}

/** Tasks on the worker's own event loop. `kill` stops waiting for the attempt but cannot stop the code. */
export function createInlinePool(app: AnyApp, log: Logger): SandboxPool {
  return {
    canKill: false,
    start(job) {
      const controller = new AbortController();
      let giveUp: (outcome: SandboxOutcome) => void = () => {};
      const abandoned = new Promise<SandboxOutcome>((resolve) => { giveUp = resolve; });
      return {
        outcome: Promise.race([runTask(app, job, controller.signal, log), abandoned]),
        abort: (reason) => controller.abort(reason),
        kill: () => giveUp({ killed: true }),
      };
    },
    close: async () => {},
  };
}
