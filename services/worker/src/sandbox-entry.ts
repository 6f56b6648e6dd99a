// The module each thread sandbox runs (piscina's `filename`). It loads the app itself, once per thread,
// and runs one attempt per call. The main thread aborts `ctx.signal` through `port` (soft limit, revoke).
import type { MessagePort } from 'node:worker_threads';
import { deserializeError, loadApp, type AnyApp, type SerializedError } from '@nightshift/core';
import { createLogger } from '@nightshift/telemetry';
import { runTask, type SandboxJob, type SandboxResult } from './run-task.ts';

const apps = new Map<string, Promise<AnyApp>>();
const log = createLogger({ service: 'worker', level: process.env.NIGHTSHIFT_LOG_LEVEL ?? 'info' });

export interface SandboxMessage {
  readonly job: SandboxJob;
  readonly port: MessagePort;
}

export default async function runInSandbox({ job, port }: SandboxMessage): Promise<SandboxResult> {
  const controller = new AbortController();
  port.on('message', (message: { abort?: SerializedError }) => {
    if (message.abort) controller.abort(deserializeError(message.abort));
  });
  try {
    let app = apps.get(job.appPath);
    if (!app) {
      app = loadApp(job.appPath);
      apps.set(job.appPath, app);
    }
    const taskLog = log.child({ task: job.envelope.task, task_id: job.envelope.id, attempt: job.envelope.attempt });
    return await runTask(await app, job, controller.signal, taskLog);
  } finally {
    port.close();
  }
}
