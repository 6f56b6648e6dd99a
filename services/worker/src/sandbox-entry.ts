// The module each thread sandbox runs. It loads the app once, when the thread is spawned, so a task never
// waits for it; then runs the tasks it is sent one at a time, in order, and answers each with one message.
import { parentPort, workerData } from 'node:worker_threads';
import { defineTask, deserializeError, loadApp, type Logger } from '@nightshift/core';
import { runTask, type SandboxJob } from './run-task.ts';
import { SandboxLog } from './sandbox-log.ts';
import type { FromSandbox, SandboxData, ToSandbox } from './sandbox-protocol.ts';

const port = parentPort;
if (!port) throw new Error('sandbox-entry.ts runs in a worker thread only');
const { appPath, logLevel } = workerData as SandboxData;
// Loaded on the first line a task writes (sandbox-log.ts). Not '@nightshift/telemetry/logger': no OpenTelemetry
// here (nothing traces in a sandbox); a task's lines carry its attempt's trace and span ids, passed with the task.
const log = new SandboxLog(logLevel, async (now) => {
  const { createJsonLogger } = await import('@nightshift/telemetry/json-logger');
  return createJsonLogger({ service: 'worker', level: logLevel, now });
});
const app = await loadApp(appPath);
await warmUp();

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

// A task that ran this long may have had messages arrive meanwhile (a drop of one waiting behind it: the pool takes
// them back from behind a long task); they are heard before the next one starts.
const HEAR_AFTER_MS = 5;

async function runWaiting(): Promise<void> {
  for (let job = waiting.shift(); job; job = waiting.shift()) {
    const controller = new AbortController();
    running = { id: job.envelope.id, controller };
    const { id } = job.envelope;
    const result = await runTask(app, job, controller.signal, taskLogger(job), { logLevel, progress: (progress) => say({ type: 'progress', id, progress }) });
    // Before `done`: the pool counts the next waiting task as started when it hears `done`, so a drop is answered
    // before it, or not at all.
    if (waiting.length > 0 && result.runtimeMs >= HEAR_AFTER_MS) await new Promise(setImmediate);
    running = undefined;
    say({ type: 'done', id, result });
  }
}

/**
 * Runs the task path once, before `ready`, with a task of its own that returns at once (none of the app's code
 * runs): a spare waits, idle, for a kill, and the task moved onto it should not pay for compiling that path
 * (about a millisecond, the most of what a warm spare costs the task after a kill besides waking its thread).
 */
async function warmUp(): Promise<void> {
  const warmUpTask = defineTask({ name: 'nightshift.sandbox.warm-up', run: () => null });
  const job: SandboxJob = {
    envelope: {
      v: 1, id: 'warm-up', task: warmUpTask.name, args: [], kwargs: {}, attempt: 1, maxAttempts: 1, queue: 'warm-up',
      sentAt: new Date().toISOString(), origin: { type: 'producer', producer: 'sandbox' },
    },
    worker: 'sandbox', delivery: { redelivered: false, deliveryCount: 0 },
  };
  await runTask({ task: () => warmUpTask }, job, new AbortController().signal, taskLogger(job), { logLevel, progress: () => {} });
}

// Most tasks never log: the child logger (and its bindings) is made on the first line only.
function taskLogger(job: SandboxJob): Logger {
  return log.forTask(() => ({
    task: job.envelope.task, task_id: job.envelope.id, attempt: job.envelope.attempt,
    ...(job.trace ? { trace_id: job.trace.traceId, span_id: job.trace.spanId } : {}),
  }));
}
