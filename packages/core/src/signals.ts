import { EventEmitter } from 'node:events';

/** What every task signal carries. */
export interface TaskSignalInfo {
  readonly task: string;
  readonly id: string;
  readonly attempt: number;
  readonly worker: string;
}

/**
 * Process-wide lifecycle signals, Celery-style: subscribe in your app module for logging and metrics.
 * `taskFailure` fires on every failed attempt (`final` says whether it was the last); use a task's
 * `onFailure` hook to page. A throwing listener is logged by the worker and never changes an outcome.
 */
export interface SignalMap {
  taskSuccess: [info: TaskSignalInfo & { readonly runtimeMs: number; readonly result: unknown }];
  taskFailure: [info: TaskSignalInfo & { readonly error: Error; readonly final: boolean }];
  taskRetry: [info: TaskSignalInfo & { readonly error: Error; readonly delayMs: number }];
  workerReady: [info: { readonly worker: string; readonly queues: readonly string[]; readonly concurrency: number }];
  workerShuttingDown: [info: { readonly worker: string; readonly reason: string }];
}

export type SignalName = keyof SignalMap;

export const signals: EventEmitter<SignalMap> = new EventEmitter<SignalMap>();
