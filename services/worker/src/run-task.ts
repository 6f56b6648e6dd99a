import { performance } from 'node:perf_hooks';
import { serializeError, UnknownTaskError, type AnyApp, type Logger, type SerializedError, type TaskContext, type TaskEnvelope } from '@nightshift/core';
import { TaskJournal, type TaskLogs } from './task-journal.ts';
import { progressReporter, type TaskProgress } from './task-progress.ts';

/** One attempt to run, as handed to a sandbox. Plain data: it crosses the thread boundary. */
export interface SandboxJob {
  readonly envelope: TaskEnvelope;
  readonly worker: string;
  /** How the broker delivered it, for `ctx.redelivered` and `ctx.deliveryCount`. */
  readonly delivery: { readonly redelivered: boolean; readonly deliveryCount: number };
  /** The attempt's span, so the sandbox's log lines carry `trace_id`/`span_id`. */
  readonly trace?: { readonly traceId: string; readonly spanId: string };
}

/** How an attempt ended inside its sandbox, with what it logged through `ctx.log` (when it logged). */
export type SandboxResult =
  | { readonly ok: true; readonly result: unknown; readonly runtimeMs: number; readonly logs?: TaskLogs }
  | { readonly ok: false; readonly error: SerializedError; readonly runtimeMs: number; readonly logs?: TaskLogs };

/** Where an attempt's journal and progress go. */
export interface RunTaskReports {
  /** The worker's log level: lines below it are neither logged nor kept. */
  readonly logLevel: string;
  /** Each progress report that leaves the attempt (at most a few a second). */
  readonly progress?: (progress: TaskProgress) => void;
}

/** Runs one attempt of a task with `signal` as its `ctx.signal`. Never throws: a failure is a result. */
export async function runTask(app: Pick<AnyApp, 'task'>, job: SandboxJob, signal: AbortSignal, log: Logger, reports: RunTaskReports = { logLevel: 'info' }): Promise<SandboxResult> {
  const started = performance.now();
  const { envelope } = job;
  const journal = new TaskJournal(reports.logLevel);
  const progress = progressReporter(reports.progress ?? (() => {}));
  const logs = () => {
    const kept = journal.take();
    return kept === undefined ? {} : { logs: kept };
  };
  try {
    const task = app.task(envelope.task);
    if (!task) throw new UnknownTaskError(envelope.task);
    const ctx: TaskContext = {
      id: envelope.id,
      task: envelope.task,
      attempt: envelope.attempt,
      maxAttempts: envelope.maxAttempts,
      queue: envelope.queue,
      signal,
      log: journal.tee(log),
      origin: envelope.origin,
      sentAt: envelope.sentAt,
      kwargs: envelope.kwargs,
      redelivered: job.delivery.redelivered,
      deliveryCount: job.delivery.deliveryCount,
      progress: progress.report,
    };
    const result: unknown = await (task.run as (ctx: TaskContext, ...args: unknown[]) => unknown)(ctx, ...envelope.args);
    return { ok: true, result: toPlainData(result), runtimeMs: performance.now() - started, ...logs() };
  } catch (error) {
    return { ok: false, error: serializeError(error), runtimeMs: performance.now() - started, ...logs() };
  } finally {
    progress.stop();
  }
}

// A result travels to the main thread and into events: keep what JSON can carry.
function toPlainData(value: unknown): unknown {
  if (value === undefined) return null;
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return String(value);
  }
}
