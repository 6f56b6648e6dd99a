import { randomUUID } from 'node:crypto';
import type { Logger, TaskContext, TaskOrigin } from '@nightshift/core';

export interface LogEntry {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly obj: object | string;
  readonly msg: string | undefined;
}

export interface TestRun {
  readonly ctx: TaskContext;
  /** Abort it to play the worker's soft time limit. */
  readonly controller: AbortController;
  readonly logs: LogEntry[];
  /** Each `ctx.progress` report, in order. */
  readonly progress: { fraction: number; message: string | undefined }[];
}

/** A context like the worker's, for calling `task.run(ctx, ...args)` directly. */
export function taskContext(task: string, options: { origin?: TaskOrigin; queue?: string } = {}): TestRun {
  const controller = new AbortController();
  const logs: LogEntry[] = [];
  const progress: TestRun['progress'] = [];
  const entry = (level: LogEntry['level']) => (obj: object | string, msg?: string) => { logs.push({ level, obj, msg }); };
  const log: Logger = { debug: entry('debug'), info: entry('info'), warn: entry('warn'), error: entry('error') };
  const ctx: TaskContext = {
    id: randomUUID(),
    task,
    attempt: 1,
    maxAttempts: 1,
    queue: options.queue ?? 'default',
    signal: controller.signal,
    log,
    origin: options.origin ?? { type: 'producer', producer: 'test' },
    sentAt: new Date().toISOString(),
    kwargs: {},
    redelivered: false,
    deliveryCount: 0,
    progress: (fraction, message) => { progress.push({ fraction, message }); },
  };
  return { ctx, controller, logs, progress };
}
