// The module each thread sandbox runs. It loads the app once, when the thread is spawned, so a task never
// waits for it; then runs the tasks it is sent one at a time, in order, and answers each with one message.
import { parentPort, workerData } from 'node:worker_threads';
import { deserializeError, loadApp, type Logger } from '@nightshift/core';
// Not '@nightshift/telemetry/logger': no OpenTelemetry here (nothing traces in a sandbox); a task's lines carry its
// attempt's trace and span ids, passed with the task as plain ids.
import { createJsonLogger } from '@nightshift/telemetry/json-logger';
import { runTask, type SandboxJob } from './run-task.ts';
import type { FromSandbox, SandboxData, ToSandbox } from './sandbox-protocol.ts';

const port = parentPort;
if (!port) throw new Error('sandbox-entry.ts runs in a worker thread only');
const { appPath, logLevel } = workerData as SandboxData;
const log = createJsonLogger({ service: 'worker', level: logLevel });
const app = await loadApp(appPath);

const waiting: SandboxJob[] = [];
let running: { readonly id: string; readonly controller: AbortController } | undefined;
const say = (message: FromSandbox) => port.postMessage(message);

port.on('message', (message: ToSandbox) => {
  switch (message.type) {
    case 'run':
      waiting.push(...message.jobs);
      if (!running) void runWaiting();
      return;
    case 'abort':
      if (running?.id === message.id) running.controller.abort(deserializeError(message.reason));
      return;
    case 'drop': {
      const index = waiting.findIndex((job) => job.envelope.id === message.id);
      if (index === -1) return;
      waiting.splice(index, 1);
      say({ type: 'dropped', id: message.id });
    }
  }
});
say({ type: 'ready' });

async function runWaiting(): Promise<void> {
  for (let job = waiting.shift(); job; job = waiting.shift()) {
    const controller = new AbortController();
    running = { id: job.envelope.id, controller };
    const { id } = job.envelope;
    const result = await runTask(app, job, controller.signal, taskLogger(job), { logLevel, progress: (progress) => say({ type: 'progress', id, progress }) });
    running = undefined;
    say({ type: 'done', id, result });
  }
}

// Most tasks never log: the child logger (and its bindings) is made on the first line only.
function taskLogger(job: SandboxJob): Logger {
  let child: Logger | undefined;
  const get = () => (child ??= log.child({
    task: job.envelope.task, task_id: job.envelope.id, attempt: job.envelope.attempt,
    ...(job.trace ? { trace_id: job.trace.traceId, span_id: job.trace.spanId } : {}),
  }));
  const at = (level: 'debug' | 'info' | 'warn' | 'error') => (obj: object | string, msg?: string) => {
    if (msg === undefined) get()[level](obj);
    else get()[level](obj, msg);
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
