import { parseDuration, type Duration } from './duration.ts';
import { ConfigError } from './errors.ts';
import type { Logger } from './logger.ts';
import { parseRateLimit, type RateLimit } from './rate-limit.ts';
import { compileRetryPolicy, type RetryOptions } from './retry.ts';

/**
 * Where a task message came from: a producer's send, a schedule entry's fire time (`beat`: sent by beat;
 * `manual`: a person's run now, at the time they asked; `backfill`: a past fire time a person sent again), or
 * the replay of a dead letter. `beat` names the schedule entry in the three schedule origins.
 */
export type TaskOrigin =
  | { readonly type: 'producer'; readonly producer: string }
  | { readonly type: 'beat'; readonly beat: string; readonly scheduledFor: string }
  | { readonly type: 'manual'; readonly beat: string; readonly scheduledFor: string; readonly by: string }
  | { readonly type: 'backfill'; readonly beat: string; readonly scheduledFor: string; readonly by: string }
  | { readonly type: 'replay'; readonly deadLetterId: string; readonly originalId: string }
  /** Sent again from the dashboard or the API (`POST /api/tasks/:id/retry`): same task and arguments, a new id. */
  | { readonly type: 'retry'; readonly retryOf: string; readonly by: string };

/** What a running task knows about its attempt. */
export interface TaskContext {
  readonly id: string;
  readonly task: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly queue: string;
  /** Aborts with `SoftTimeLimitExceeded` when the soft time limit passes, or on revoke/shutdown. */
  readonly signal: AbortSignal;
  /**
   * The attempt's logger. Its lines go to the worker's log, and the first ones of each attempt (bounded, secrets
   * redacted) are also kept with the run, on the task's page in the dashboard.
   */
  readonly log: Logger;
  readonly origin: TaskOrigin;
  readonly sentAt: string;
  readonly kwargs: Readonly<Record<string, unknown>>;
  /**
   * RabbitMQ delivered this message before (the AMQP `redelivered` flag): a worker took it and the channel it
   * came on closed before the ack (a lost connection or node, a crashed sandbox, a shutdown). That delivery may
   * have run, even to the end, so a task with outside effects should check before repeating them. `false`
   * where no broker delivered the attempt (a test's own context).
   */
  readonly redelivered: boolean;
  /**
   * How many times this message was delivered before and returned to its queue unsettled: the quorum queue's
   * `x-delivery-count` header, `0` when absent (the first delivery, or a classic queue). It counts deliveries
   * of this attempt's message, not attempts: a retry is a new message and starts again at `0`. The queue's
   * delivery limit dead-letters a message whose count reaches it.
   */
  readonly deliveryCount: number;
  /**
   * Reports how far the attempt has come: `fraction` from 0 to 1 and an optional line of text
   * (`ctx.progress(0.4, 'rows 4,000 of 10,000')`). The dashboard shows the latest report of a running task
   * as a progress bar. Cheap to call often: reports are sent at most a few times a second, the latest wins.
   * @throws RangeError when `fraction` is not a number from 0 to 1.
   */
  progress(fraction: number, message?: string): void;
}

export interface RetryInfo {
  readonly delayMs: number;
  readonly nextAttempt: number;
}

/** What `defineTask` accepts. */
export interface TaskOptions<Name extends string, Args extends unknown[], Result> {
  /** Unique within the app; dotted names group tasks (`reports.generateDaily`). */
  name: Name;
  /** Queue the task is sent to. Default: the app's `defaults.queue`, else `'default'`. */
  queue?: string;
  /** When this passes, `ctx.signal` aborts with `SoftTimeLimitExceeded`. Default: app default, else `'300s'`. */
  softTimeLimit?: Duration;
  /** When this passes, the sandbox is terminated and the attempt fails with `TimeLimitExceeded`. Default: app default, else `'330s'`. */
  timeLimit?: Duration;
  /** Retry policy over the app's `defaults.retry`. */
  retry?: RetryOptions;
  /**
   * At most this many starts per second, minute or hour on each worker (`'100/m'`); further deliveries wait
   * in the worker, unacknowledged. Changed at runtime with `nightshift control rate-limit`. Default: none.
   */
  rateLimit?: string;
  run(ctx: TaskContext, ...args: Args): Result | Promise<Result>;
  /** After a successful attempt. A throwing hook is logged and never changes the outcome. */
  onSuccess?(ctx: TaskContext, result: Awaited<Result>): void | Promise<void>;
  /** After a failed attempt that will be retried. */
  onRetry?(ctx: TaskContext, error: Error, info: RetryInfo): void | Promise<void>;
  /** Exactly once, after the final failure (retries exhausted or permanent). */
  onFailure?(ctx: TaskContext, error: Error): void | Promise<void>;
}

/** A task, as returned by `defineTask`: the options, validated and frozen. */
export interface TaskDefinition<Name extends string = string, Args extends unknown[] = unknown[], Result = unknown>
  extends Readonly<TaskOptions<Name, Args, Result>> {
  readonly kind: 'nightshift.task';
  readonly softTimeLimitMs: number | undefined;
  readonly timeLimitMs: number | undefined;
  /** `rateLimit`, read; `undefined` without one. */
  readonly rate: RateLimit | undefined;
}

// `never[]` accepts any argument list: function parameters are checked contravariantly.
export type AnyTask = TaskDefinition<string, never[], unknown>;

/** The argument tuple of a task: `send(task, args)` is checked against it at compile time. */
export type TaskArgs<T> = T extends TaskDefinition<string, infer Args, unknown> ? Args : never;
export type TaskResult<T> = T extends TaskDefinition<string, unknown[], infer Result> ? Awaited<Result> : never;

const TASK_NAME = /^[A-Za-z_][\w.:-]{0,199}$/;
const QUEUE_NAME = /^[A-Za-z0-9_][\w.-]{0,99}$/;

/** Defines a task. Validates its options at once; errors name the task and the field. */
export function defineTask<const Name extends string, Args extends unknown[], Result>(
  options: TaskOptions<Name, Args, Result>,
): TaskDefinition<Name, Args, Result> {
  const name = options?.name as unknown;
  if (typeof name !== 'string' || !TASK_NAME.test(name)) {
    throw new ConfigError(`defineTask: name ${JSON.stringify(name)} must be a string of letters, digits and . _ : - (starting with a letter)`, { field: 'name' });
  }
  const where = `task ${JSON.stringify(name)}`;
  if (typeof options.run !== 'function') throw new ConfigError(`${where}: run must be a function (ctx, ...args) => result`, { field: 'run' });
  if (options.queue !== undefined) validateQueueName(options.queue, `${where} queue`);
  for (const hook of ['onSuccess', 'onRetry', 'onFailure'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') {
      throw new ConfigError(`${where}: ${hook} must be a function`, { field: hook });
    }
  }
  const softTimeLimitMs = options.softTimeLimit === undefined ? undefined : parseDuration(options.softTimeLimit, `${where} softTimeLimit`);
  const timeLimitMs = options.timeLimit === undefined ? undefined : parseDuration(options.timeLimit, `${where} timeLimit`);
  compileRetryPolicy(options.retry, `${where} retry`);
  const rate = options.rateLimit === undefined ? undefined : parseRateLimit(options.rateLimit, `${where} rateLimit`);
  return Object.freeze({ ...options, kind: 'nightshift.task' as const, softTimeLimitMs, timeLimitMs, rate });
}

export function isTask(value: unknown): value is AnyTask {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'nightshift.task';
}

export function validateQueueName(queue: unknown, field: string): string {
  if (typeof queue !== 'string' || !QUEUE_NAME.test(queue)) {
    throw new ConfigError(`${field}: ${JSON.stringify(queue)} is not a queue name (letters, digits, . _ -; at most 100)`, { field });
  }
  return queue;
}
