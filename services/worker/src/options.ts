import { availableParallelism, hostname } from 'node:os';
import {
  ConfigError, formatDuration, parseDuration, resolveTaskSettings, validateQueueName,
  type AnyApp, type Logger, type ResolvedTaskSettings,
} from '@nightshift/core';
import type { WorkerConfig } from './config.ts';
import { parseAutoscale, readPoolBounds, type PoolBounds } from './pool-control.ts';

/** Where tasks run. `threads`: worker threads, killable at the hard limit. `inline`: the worker's own event loop, for I/O-bound tasks at high concurrency; the hard limit cannot kill. */
export type PoolKind = 'threads' | 'inline';

/** What a worker is given on its command line (the environment is its `WorkerConfig`). */
export interface WorkerOptionsInput {
  /** Path of the app module (for thread sandboxes, which load it themselves). */
  appPath: string;
  /** Queues to consume. Default: every queue the app's tasks use. */
  queues?: readonly string[];
  /** Sandboxes, i.e. tasks running at once. Default: `NIGHTSHIFT_WORKER_CONCURRENCY`, else the CPU count. */
  concurrency?: number;
  /** Default: `'threads'`. */
  pool?: PoolKind;
  /**
   * Follow the load between these bounds (Celery's `--autoscale`): `'max,min'` or `{ min, max }`. The pool starts
   * at `concurrency` if given, else at `min`. Default: `NIGHTSHIFT_WORKER_AUTOSCALE`, else off (a fixed pool).
   */
  autoscale?: string | PoolBounds;
  /** How long a grown pool stays so after it was last full. Default: `NIGHTSHIFT_WORKER_AUTOSCALE_KEEPALIVE`, else `'30s'`. */
  autoscaleKeepalive?: string | number;
  /** How long running tasks may finish after the first SIGTERM. Default: `NIGHTSHIFT_WORKER_GRACE`, else `'30s'`. */
  grace?: string | number;
  /** Named in events, dead letters and control replies. Default: `worker@<host>:<pid>`. */
  name?: string;
  /** Interval of `worker.heartbeat` events. Default: `NIGHTSHIFT_HEARTBEAT`, else `'5s'`. */
  heartbeat?: string | number;
  /** RabbitMQ's `consumer_timeout`: a hard limit at or above it is refused. Default: `NIGHTSHIFT_CONSUMER_TIMEOUT`, else `'30m'` (RabbitMQ's default). */
  consumerTimeout?: string | number;
  /** Heap limit of a thread sandbox in MB; a task that exceeds it kills only its sandbox. Default: Node's. */
  maxOldGenerationSizeMb?: number;
}

export interface WorkerOptions {
  readonly appPath: string;
  readonly queues: readonly string[];
  /** The pool's size at start. */
  readonly concurrency: number;
  /** The bounds the pool follows the load within from the start, or `undefined`: a fixed pool until the `autoscale` control. */
  readonly autoscale: PoolBounds | undefined;
  readonly autoscaleKeepaliveMs: number;
  /** The largest pool the consumers can feed: their prefetch is at least twice it (each sandbox holds two places), fixed while they consume. */
  readonly largestPool: number;
  /**
   * Messages each consumer holds (its prefetch): `NIGHTSHIFT_WORKER_PREFETCH` per sandbox of the starting pool, and
   * at least the places of the largest pool (2 a sandbox).
   */
  readonly prefetch: number;
  readonly pool: PoolKind;
  readonly graceMs: number;
  readonly name: string;
  readonly heartbeatMs: number;
  readonly consumerTimeoutMs: number;
  readonly maxOldGenerationSizeMb: number | undefined;
  /** Log level of the sandboxes' task loggers (`NIGHTSHIFT_LOG_LEVEL`, validated). */
  readonly logLevel: string;
  /** `NIGHTSHIFT_REDIS_URL`: where revokes are kept (read at start and every 10 s). */
  readonly redisUrl: string;
  /** Settings of every task, after task, app and global defaults. */
  readonly tasks: ReadonlyMap<string, ResolvedTaskSettings>;
  /**
   * Where finished attempts are recorded: Redis (`NIGHTSHIFT_REDIS_URL`), or `undefined` with
   * `NIGHTSHIFT_COMPLETION_RECORDS=off`; the least a record is kept, the retry ladder's shortest step (for how
   * long a task's retries can take), and how long Redis is waited for.
   */
  readonly completionRecords: {
    readonly redisUrl: string | undefined; readonly ttlFloorMs: number; readonly shortestRetryStepMs: number; readonly timeoutMs: number;
    /** How long a running attempt's claim lasts unless renewed. */
    readonly leaseMs: number;
    /** How long past its time a retry that has not started is sent again (retry-rescue.ts). */
    readonly rescueAfterMs: number;
  };
}

/** The flags of a worker process (`services/worker/src/main.ts`), which `nightshift worker` takes and passes on. */
export const WORKER_FLAGS = Object.freeze({
  app: { type: 'string' },
  queues: { type: 'string' },
  concurrency: { type: 'string' },
  autoscale: { type: 'string' },
  pool: { type: 'string' },
  grace: { type: 'string' },
  name: { type: 'string' },
} as const);

/**
 * Validates flags, configuration and the app's task limits into frozen options; a flag wins over its variable.
 * Refuses a task whose hard limit is not above its soft limit, or reaches the broker's consumer timeout;
 * warns once for each task that relies on the global default limits.
 */
export function compileWorkerOptions(app: AnyApp, input: WorkerOptionsInput, config: WorkerConfig, log: Logger): WorkerOptions {
  const tasks = new Map<string, ResolvedTaskSettings>();
  for (const task of app.tasks) tasks.set(task.name, resolveTaskSettings(app, task));
  const queues = input.queues && input.queues.length > 0
    ? input.queues.map((q, i) => validateQueueName(q, `--queues[${i}]`))
    : [...new Set([...tasks.values()].map((t) => t.queue))];
  let autoscale = config.autoscale;
  if (input.autoscale !== undefined) {
    try {
      autoscale = typeof input.autoscale === 'string' ? parseAutoscale(input.autoscale) : boundsOrThrow(input.autoscale);
    } catch (error) {
      throw new ConfigError(`--autoscale: ${(error as Error).message}`, { field: 'autoscale', cause: error });
    }
  }
  const concurrency = input.concurrency ?? config.concurrency ?? autoscale?.min ?? availableParallelism();
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1024) {
    throw new ConfigError(`--concurrency: ${JSON.stringify(concurrency)} must be a whole number from 1 to 1024`, { field: 'concurrency' });
  }
  if (autoscale !== undefined && (concurrency < autoscale.min || concurrency > autoscale.max)) {
    throw new ConfigError(`--concurrency: ${concurrency} is outside --autoscale ${autoscale.max},${autoscale.min} (the pool starts within its bounds; leave --concurrency out to start at the minimum)`, { field: 'concurrency' });
  }
  // Without --autoscale, twice the starting size: the bounds manual grows (and a later autoscale) stay within.
  const largestPool = Math.max(2 * concurrency, autoscale?.max ?? 0);
  const autoscaleKeepaliveMs = input.autoscaleKeepalive === undefined ? config.autoscaleKeepaliveMs : parseDuration(input.autoscaleKeepalive, 'autoscaleKeepalive');
  const pool = input.pool ?? 'threads';
  if (pool !== 'threads' && pool !== 'inline') throw new ConfigError(`--pool: ${JSON.stringify(pool)} must be "threads" or "inline"`, { field: 'pool' });
  const consumerTimeoutMs = input.consumerTimeout === undefined ? config.consumerTimeoutMs : parseDuration(input.consumerTimeout, 'consumerTimeout');

  const relying: string[] = [];
  for (const [name, settings] of tasks) {
    if (settings.timeLimitMs <= settings.softTimeLimitMs) {
      throw new ConfigError(
        `task "${name}": its hard time limit (${formatDuration(settings.timeLimitMs)}) must be above its soft time limit (${formatDuration(settings.softTimeLimitMs)}), so the task has time to clean up`,
        { field: `${name}.timeLimit` },
      );
    }
    if (settings.timeLimitMs >= consumerTimeoutMs) {
      throw new ConfigError(
        `task "${name}": its hard time limit (${formatDuration(settings.timeLimitMs)}) reaches RabbitMQ's consumer timeout (${formatDuration(consumerTimeoutMs)}), which would close the channel first. ` +
          'Lower the limit, or raise consumer_timeout in rabbitmq.conf and set NIGHTSHIFT_CONSUMER_TIMEOUT to match',
        { field: `${name}.timeLimit` },
      );
    }
    if (settings.limitsFromGlobalDefault.soft || settings.limitsFromGlobalDefault.hard) relying.push(name);
  }
  for (const name of relying) {
    log.warn({ task: name }, `task "${name}" has no time limits of its own or from the app; using the global defaults (soft 300s, hard 330s)`);
  }
  if (pool === 'inline') {
    log.warn({ pool }, 'inline pool: tasks share the worker\'s event loop; the soft limit still aborts ctx.signal, but the hard limit cannot kill a task that ignores it');
  }

  return Object.freeze({
    appPath: input.appPath,
    queues: Object.freeze(queues),
    concurrency,
    autoscale: autoscale === undefined ? undefined : Object.freeze({ ...autoscale }),
    autoscaleKeepaliveMs,
    largestPool,
    prefetch: Math.max(2 * largestPool, concurrency * config.prefetchPerSandbox),
    pool,
    graceMs: input.grace === undefined ? config.graceMs : parseDuration(input.grace, '--grace'),
    name: input.name ?? `worker@${hostname()}:${process.pid}`,
    heartbeatMs: input.heartbeat === undefined ? config.heartbeatMs : parseDuration(input.heartbeat, 'heartbeat'),
    consumerTimeoutMs,
    maxOldGenerationSizeMb: input.maxOldGenerationSizeMb,
    logLevel: config.core.logLevel,
    redisUrl: config.core.redisUrl,
    tasks,
    completionRecords: Object.freeze({
      redisUrl: config.completionRecords ? config.core.redisUrl : undefined, ttlFloorMs: config.completionTtlMs,
      shortestRetryStepMs: config.core.retryLadderMs[0] ?? 0, timeoutMs: config.completionTimeoutMs,
      leaseMs: config.completionLeaseMs, rescueAfterMs: config.retryRescueAfterMs,
    }),
  });
}

function boundsOrThrow(bounds: PoolBounds): PoolBounds {
  const read = readPoolBounds(bounds.min, bounds.max);
  if ('refused' in read) throw new Error(read.refused);
  return read;
}
