// The module each thread sandbox runs (piscina's `filename`). It loads the app itself, once per thread,
// and runs one attempt per call. The main thread aborts `ctx.signal` by posting `{ id, abort }` on the
// pool's broadcast channel (soft limit); one channel per pool, rather than a new port per task.
import { BroadcastChannel, workerData } from 'node:worker_threads';
import { deserializeError, loadApp, type AnyApp, type SerializedError } from '@nightshift/core';
import { createLogger } from '@nightshift/telemetry';
import { runTask, type SandboxJob, type SandboxResult } from './run-task.ts';

const apps = new Map<string, Promise<AnyApp>>();
const log = createLogger({ service: 'worker', level: (workerData as { logLevel?: string } | undefined)?.logLevel ?? 'info' });

export interface SandboxMessage {
  readonly job: SandboxJob;
  /** Name of the pool's broadcast channel for aborts. */
  readonly channel: string;
}

/** What the main thread posts to abort one attempt's `ctx.signal`. */
export interface AbortMessage {
  readonly id: string;
  readonly abort: SerializedError;
}

const running = new Map<string, AbortController>();
let listening: BroadcastChannel | undefined;

function listen(name: string): void {
  if (listening) return;
  listening = new BroadcastChannel(name);
  listening.onmessage = (event) => {
    const { id, abort } = (event as unknown as { data: AbortMessage }).data;
    running.get(id)?.abort(deserializeError(abort));
  };
  // The channel must not keep an idle thread alive.
  listening.unref();
}

export default async function runInSandbox({ job, channel }: SandboxMessage): Promise<SandboxResult> {
  listen(channel);
  const controller = new AbortController();
  running.set(job.envelope.id, controller);
  try {
    let app = apps.get(job.appPath);
    if (!app) {
      app = loadApp(job.appPath);
      apps.set(job.appPath, app);
    }
    const taskLog = log.child({
      task: job.envelope.task, task_id: job.envelope.id, attempt: job.envelope.attempt,
      ...(job.trace ? { trace_id: job.trace.traceId, span_id: job.trace.spanId } : {}),
    });
    return await runTask(await app, job, controller.signal, taskLog);
  } finally {
    running.delete(job.envelope.id);
  }
}
