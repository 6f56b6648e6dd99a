import {
  decideRetry, deserializeError, encode, formatDuration, serializeError, signals, SoftTimeLimitExceeded, TimeLimitExceeded,
  type AnyApp, type Logger, type SignalMap, type TaskContext, type TaskEnvelope,
} from '@nightshift/core';
import { HEADERS, publishDeadLetter, REPUBLISHED_HEADER, scheduleRetry, type Broker, type EventType, type ReceivedTask } from '@nightshift/broker';
import { ATTR_ERROR_TYPE, ATTR_OUTCOME, SpanStatusCode, trace, traceIdOf } from '@nightshift/telemetry';
import type { CompletionRecords } from './completion-records.ts';
import { loggedError } from './logged-error.ts';
import { rescuableHeaders } from './retry-rescue-keys.ts';
import { RESCUED_HEADER } from './retry-rescue.ts';
import type { WorkerOptions } from './options.ts';
import type { SandboxJob } from './run-task.ts';
import type { SandboxPool } from './sandbox-pool.ts';
import type { TaskProgress } from './task-progress.ts';
import type { WorkerMetrics } from './worker-metrics.ts';

/** What an attempt needs from its worker. */
export interface AttemptDeps {
  readonly broker: Broker;
  readonly app: AnyApp;
  readonly options: WorkerOptions;
  readonly pool: SandboxPool;
  readonly metrics: WorkerMetrics;
  readonly log: Logger;
  /** Where a finished attempt is recorded, after its outcome is durable and before its ack. */
  readonly completions: CompletionRecords;
  emit(type: EventType, fields: Record<string, unknown>): void;
}

/** A running attempt, as the worker sees it (for `active`, revoke and shutdown). */
export interface RunningAttempt {
  readonly envelope: TaskEnvelope;
  /** When it started in its sandbox; `undefined` while it waits for its sandbox to take it up. */
  readonly startedAt: number | undefined;
  /** Terminates the attempt; it is acked and reported as revoked, not retried. */
  terminate(): void;
  /** Stops the attempt for shutdown; its message goes back to the queue. */
  abandon(): void;
}

type StopReason = 'hard-limit' | 'revoked' | 'shutdown' | 'channel-lost';

/**
 * Runs one attempt in a sandbox with its soft and hard limits, then makes its outcome durable before acking:
 * success; a retry parked in the ladder (confirmed); or a dead letter (confirmed). Between the two, the
 * attempt's completion record is written, so a duplicate delivered after it finds the attempt finished. A
 * sandbox that dies on its own returns the message to the queue (no record: the attempt runs again), so a
 * task that keeps killing its sandbox meets the delivery limit.
 */
export async function runAttempt(deps: AttemptDeps, received: ReceivedTask, register: (attempt: RunningAttempt) => () => void): Promise<void> {
  const { envelope, delivery } = received;
  const { options, metrics } = deps;
  const settings = options.tasks.get(envelope.task);
  if (!settings) throw new Error(`no settings for task ${envelope.task}`);
  const summary = eventFields(envelope, options.name);
  const span = trace.getActiveSpan()?.spanContext();
  const job: SandboxJob = { envelope, worker: options.name, delivery: deliveryInfo(received), ...(span ? { trace: { traceId: span.traceId, spanId: span.spanId } } : {}) };
  // Reports heard before this attempt's start has gone out wait for it, so no one sees progress of a task that has not
  // started: the inline pool runs the task's first synchronous steps (often a first `ctx.progress`) inside `start`,
  // before `run.started` can be heard below. `undefined` once the start has gone out.
  let early: TaskProgress[] | undefined = [];
  const run = deps.pool.start(job, (progress) => {
    if (early) early.push(progress);
    else deps.emit('task.progress', { ...summary, ...progress });
  });
  let stopped: StopReason | undefined;
  const stop = (reason: StopReason) => {
    stopped ??= reason;
    run.kill();
  };
  let startedAt: number | undefined;
  let ended = false;
  let timer: NodeJS.Timeout | undefined;
  // Its channel closed before the sandbox took it up: RabbitMQ delivers it again, so it must not start here.
  const channelLost = () => {
    if (startedAt !== undefined || ended) return;
    stopped ??= 'channel-lost';
    run.withdraw();
  };
  delivery.channelLost.addEventListener('abort', channelLost, { once: true });
  const unregister = register({ envelope, get startedAt() { return startedAt; }, terminate: () => stop('revoked'), abandon: () => stop('shutdown') });
  // The limits count from the moment the sandbox takes the attempt up: waiting for a free one is never charged.
  // One timer at a time: the hard limit's is set when the soft one fires (most tasks end before either).
  void run.started.then((started) => {
    if (!started || ended) return;
    // Taken up by its sandbox before the withdrawal arrived: it runs to its outcome, only its ack is skipped.
    if (stopped === 'channel-lost') stopped = undefined;
    startedAt = Date.now();
    deps.emit('task.started', summary);
    for (const progress of early ?? []) deps.emit('task.progress', { ...summary, ...progress });
    early = undefined;
    timer = setTimeout(() => {
      metrics.limitHits.add(1, { task: envelope.task, kind: 'soft' });
      deps.log.warn({ task: envelope.task, task_id: envelope.id, attempt: envelope.attempt, limitMs: settings.softTimeLimitMs }, 'soft time limit reached: the task is told to stop (ctx.signal)');
      run.abort(new SoftTimeLimitExceeded(settings.softTimeLimitMs));
      timer = setTimeout(() => {
        metrics.limitHits.add(1, { task: envelope.task, kind: 'hard' });
        deps.log.error({ task: envelope.task, task_id: envelope.id, attempt: envelope.attempt, limitMs: settings.timeLimitMs }, 'hard time limit reached: killing the sandbox and replacing it');
        stop('hard-limit');
      }, settings.timeLimitMs - settings.softTimeLimitMs);
    }, settings.softTimeLimitMs);
  });
  const outcome = await run.outcome.finally(() => {
    ended = true;
    delivery.channelLost.removeEventListener('abort', channelLost);
    clearTimeout(timer);
    unregister();
  });
  const runtimeMs = 'runtimeMs' in outcome ? outcome.runtimeMs : Date.now() - (startedAt ?? Date.now());
  // What the task logged goes before its outcome, so the history shows the lines within their attempt.
  if ('logs' in outcome && outcome.logs !== undefined) deps.emit('task.logged', { ...summary, ...outcome.logs });

  if (stopped === 'channel-lost' && 'killed' in outcome) {
    markAttempt('returned'); // not started; the subscription has said so, once for the channel's batch
    await deps.completions.release(envelope);
    return;
  }
  if (stopped === 'shutdown') {
    markAttempt('returned');
    await deps.completions.release(envelope);
    delivery.nack(true);
    deps.log.warn({ task: envelope.task, task_id: envelope.id }, 'shutdown grace period over: the task was stopped and returned to its queue');
    return;
  }
  if (stopped === 'revoked') {
    markAttempt('revoked');
    delivery.ack();
    await deps.completions.release(envelope);
    metrics.tasks.add(1, { task: envelope.task, outcome: 'revoked' });
    deps.emit('task.revoked', { ...summary, runtimeMs, terminated: startedAt !== undefined });
    return;
  }
  if ('crashed' in outcome) {
    // Not retried by us: the message goes back, and the broker's delivery limit stops a poison message.
    markAttempt('crashed', outcome.error.name);
    await deps.completions.release(envelope); // so its next delivery runs at once, wherever it goes
    metrics.tasks.add(1, { task: envelope.task, outcome: 'crashed' });
    deps.log.error({ task: envelope.task, task_id: envelope.id, err: loggedError(outcome.error, { stack: true }) }, 'the sandbox died running this task; returning it to the queue');
    deps.emit('task.failed', { ...summary, runtimeMs, final: false, crashed: true, error: errorSummary(outcome.error) });
    delivery.nack(true);
    return;
  }
  metrics.runtime.record(runtimeMs / 1000, { task: envelope.task });
  if (stopped === 'hard-limit' || 'killed' in outcome) {
    await fail(deps, received, new TimeLimitExceeded(settings.timeLimitMs), runtimeMs);
    return;
  }
  if (!outcome.ok) {
    await fail(deps, received, deserializeError(outcome.error), runtimeMs);
    return;
  }
  await deps.completions.record(envelope, 'succeeded');
  delivery.ack();
  markAttempt('succeeded');
  metrics.tasks.add(1, { task: envelope.task, outcome: 'succeeded' });
  deps.emit('task.succeeded', { ...summary, runtimeMs, result: truncate(outcome.result) });
  const info = { task: envelope.task, id: envelope.id, attempt: envelope.attempt, worker: options.name };
  emitSignal(deps.log, 'taskSuccess', { ...info, runtimeMs, result: outcome.result });
  await safely(deps.log, 'onSuccess', () => deps.app.task(envelope.task)?.onSuccess?.(hookContext(deps, received), outcome.result as never));
}

async function fail(deps: AttemptDeps, received: ReceivedTask, error: Error, runtimeMs: number): Promise<void> {
  const { envelope, delivery } = received;
  const { options, metrics } = deps;
  const settings = options.tasks.get(envelope.task);
  if (!settings) throw new Error(`no settings for task ${envelope.task}`);
  const task = deps.app.task(envelope.task);
  const headers = received.delivery.message.properties.headers ?? {};
  const firstFailedAt = typeof headers[HEADERS.firstFailedAt] === 'string' ? headers[HEADERS.firstFailedAt] as string : new Date().toISOString();
  const decision = decideRetry(settings.retry, error, envelope.attempt);
  const info = { task: envelope.task, id: envelope.id, attempt: envelope.attempt, worker: options.name };
  const summary = eventFields(envelope, options.name);
  deps.emit('task.failed', { ...summary, runtimeMs, final: !decision.retry, error: errorSummary(serializeError(error)) });
  emitSignal(deps.log, 'taskFailure', { ...info, error, final: !decision.retry });

  if (decision.retry) {
    const next: TaskEnvelope = { ...envelope, attempt: envelope.attempt + 1, eta: new Date(Date.now() + decision.delayMs).toISOString() };
    // The marks of this copy (sent again after a lost confirm, or by the rescue) are not the next attempt's.
    const { [REPUBLISHED_HEADER]: _republished, [RESCUED_HEADER]: _rescued, ...kept } = headers;
    const parked = { ...kept, [HEADERS.firstFailedAt]: firstFailedAt };
    await scheduleRetry(deps.broker, next, parked, { delayMs: decision.delayMs, errorType: error.name });
    // Expected back by its eta: if the ladder does not bring it, it is sent again (retry-rescue.ts).
    await deps.completions.expectRetry(next, { task: next.task, body: encode(next).toString('base64'), headers: rescuableHeaders(parked) });
    await deps.completions.record(envelope, 'retried');
    delivery.ack();
    markAttempt('retried', error.name);
    metrics.tasks.add(1, { task: envelope.task, outcome: 'retried' });
    metrics.retries.add(1, { task: envelope.task });
    deps.emit('task.retried', { ...summary, runtimeMs, delayMs: decision.delayMs, nextAttempt: next.attempt, error: errorSummary(serializeError(error)) });
    // No stack on a retry line: the task.retried event keeps it, and the dead letter the last one.
    deps.log.warn(
      { task: envelope.task, task_id: envelope.id, attempt: envelope.attempt, delayMs: decision.delayMs, err: loggedError(error, { stack: false }) },
      `attempt ${envelope.attempt} of ${envelope.task} failed (${error.name}); retrying in ${formatDuration(decision.delayMs)}`,
    );
    emitSignal(deps.log, 'taskRetry', { ...info, error, delayMs: decision.delayMs });
    await safely(deps.log, 'onRetry', () => task?.onRetry?.(hookContext(deps, received), error, { delayMs: decision.delayMs, nextAttempt: next.attempt }));
    return;
  }
  const why = { permanent: 'a permanent error', 'not-retryable': 'an error its retryOn does not match', exhausted: `retries exhausted after ${envelope.attempt} attempts` }[decision.reason];
  await publishDeadLetter(deps.broker, delivery.message, {
    reason: 'failed', detail: why, error: serializeError(error), worker: options.name,
    attempts: envelope.attempt, firstFailedAt, originalQueue: envelope.queue,
  });
  await deps.completions.record(envelope, 'dead_lettered');
  delivery.ack();
  markAttempt('dead_lettered', error.name);
  metrics.tasks.add(1, { task: envelope.task, outcome: 'dead_lettered' });
  metrics.deadLetters.add(1, { reason: 'failed', task: envelope.task });
  deps.emit('task.dead-lettered', { ...summary, runtimeMs, reason: 'failed', detail: why, error: errorSummary(serializeError(error)) });
  deps.log.error(
    { task: envelope.task, task_id: envelope.id, attempts: envelope.attempt, err: loggedError(error, { stack: true }) },
    `${envelope.task} failed for good (${why}): dead-lettered`,
  );
  await safely(deps.log, 'onFailure', () => task?.onFailure?.(hookContext(deps, received), error));
}

/**
 * Says on the attempt's `process` span (the active one) how it ended, as the `outcome` label of
 * `nightshift_tasks_total` does. A failed attempt is an error there, named by its class only: its message may
 * hold secrets, and the redacted one is in the dead letter and its alert.
 */
function markAttempt(outcome: 'succeeded' | 'retried' | 'dead_lettered' | 'crashed' | 'revoked' | 'returned', errorType?: string): void {
  const span = trace.getActiveSpan();
  if (span === undefined) return;
  span.setAttribute(ATTR_OUTCOME, outcome);
  if (errorType === undefined) return;
  span.setAttribute(ATTR_ERROR_TYPE, errorType);
  span.setStatus({ code: SpanStatusCode.ERROR, message: errorType });
}

/** The fields every task event carries. */
export function eventFields(envelope: TaskEnvelope, worker: string): Record<string, unknown> {
  // Inside the attempt's span (consumeTasks runs handlers in it): the trace the sender started.
  const traceId = traceIdOf(trace.getActiveSpan()?.spanContext());
  return {
    id: envelope.id, task: envelope.task, queue: envelope.queue, attempt: envelope.attempt, maxAttempts: envelope.maxAttempts, worker,
    sentAt: envelope.sentAt, origin: envelope.origin, ...(traceId !== undefined ? { traceId } : {}),
  };
}

function errorSummary(error: { name: string; message: string; code?: string; stack?: string }): Record<string, unknown> {
  return { name: error.name, message: error.message, ...(error.code ? { code: error.code } : {}), ...(error.stack ? { stack: error.stack } : {}) };
}

function truncate(result: unknown): unknown {
  const text = JSON.stringify(result) ?? 'null';
  return text.length <= 2_000 ? result : `${text.slice(0, 2_000)}…`;
}

// Hooks run in the worker's main thread after the outcome is durable; their context has no live signal.
function hookContext(deps: AttemptDeps, received: ReceivedTask): TaskContext {
  const { envelope } = received;
  return {
    ...deliveryInfo(received),
    id: envelope.id, task: envelope.task, attempt: envelope.attempt, maxAttempts: envelope.maxAttempts, queue: envelope.queue,
    signal: new AbortController().signal, log: deps.log, origin: envelope.origin, sentAt: envelope.sentAt, kwargs: envelope.kwargs,
    progress: () => {}, // the attempt is over: nothing left to report
  };
}

/** What the task is told of its delivery. */
function deliveryInfo(received: ReceivedTask): SandboxJob['delivery'] {
  // `received.deliveryCount` counts this delivery too; the task is told of the ones before it (the header).
  return { redelivered: received.redelivered, deliveryCount: received.deliveryCount - 1 };
}

/** Runs a user hook; a throw is logged and never changes the task's outcome. */
export async function safely(log: Logger, hook: string, call: () => unknown): Promise<void> {
  try {
    await call();
  } catch (error) {
    log.error({ hook, err: error }, `the ${hook} hook threw; the task's outcome stands`);
  }
}

export function emitSignal<K extends keyof SignalMap>(log: Logger, name: K, ...args: SignalMap[K]): void {
  for (const listener of signals.listeners(name)) {
    try {
      const returned: unknown = (listener as (...a: SignalMap[K]) => unknown)(...args);
      if (returned instanceof Promise) returned.catch((error: unknown) => log.error({ signal: name, err: error }, `a ${name} signal listener failed`));
    } catch (error) {
      log.error({ signal: name, err: error }, `a ${name} signal listener threw`);
    }
  }
}
