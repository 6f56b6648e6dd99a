import { performance } from 'node:perf_hooks';
import { serializeError, UnknownTaskError, type AnyApp, type Logger, type SerializedError, type TaskContext, type TaskEnvelope } from '@nightshift/core';

/** One attempt to run, as handed to a sandbox. Plain data: it crosses the thread boundary. */
export interface SandboxJob {
  readonly envelope: TaskEnvelope;
  readonly worker: string;
  /** How the broker delivered it, for `ctx.redelivered` and `ctx.deliveryCount`. */
  readonly delivery: { readonly redelivered: boolean; readonly deliveryCount: number };
  /** The attempt's span, so the sandbox's log lines carry `trace_id`/`span_id`. */
  readonly trace?: { readonly traceId: string; readonly spanId: string };
}

/** How an attempt ended inside its sandbox. */
export type SandboxResult =
  | { readonly ok: true; readonly result: unknown; readonly runtimeMs: number }
  | { readonly ok: false; readonly error: SerializedError; readonly runtimeMs: number };

/** Runs one attempt of a task with `signal` as its `ctx.signal`. Never throws: a failure is a result. */
export async function runTask(app: AnyApp, job: SandboxJob, signal: AbortSignal, log: Logger): Promise<SandboxResult> {
  const started = performance.now();
  const { envelope } = job;
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
      log,
      origin: envelope.origin,
      sentAt: envelope.sentAt,
      kwargs: envelope.kwargs,
      redelivered: job.delivery.redelivered,
      deliveryCount: job.delivery.deliveryCount,
    };
    const result: unknown = await (task.run as (ctx: TaskContext, ...args: unknown[]) => unknown)(ctx, ...envelope.args);
    return { ok: true, result: toPlainData(result), runtimeMs: performance.now() - started };
  } catch (error) {
    return { ok: false, error: serializeError(error), runtimeMs: performance.now() - started };
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
