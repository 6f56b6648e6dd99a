// What the worker's main thread and a thread sandbox say to each other, over the thread's own port.
// `run` there (the tasks placed in one turn of the main thread: at most the pool's depth, the one to run and those
// ready behind it), `done` back for each. A sandbox starts its ready task the moment the one before ends, so it never
// waits for the main thread; a message fewer a task is a wake-up of the thread fewer, which costs more than the
// message.
import type { SerializedError } from '@nightshift/core';
import type { SandboxJob, SandboxResult } from './run-task.ts';
import type { TaskProgress } from './task-progress.ts';

/** Given to a thread sandbox when it is spawned: it loads the app before it says `ready`. */
export interface SandboxData {
  readonly appPath: string;
  /** Level of the task loggers. */
  readonly logLevel: string;
}

/** Main thread → sandbox. */
export type ToSandbox =
  /** Run these, in order, after the task running now (at once if none). */
  | { readonly type: 'run'; readonly jobs: readonly SandboxJob[] }
  /** Abort `ctx.signal` of the task with this id, if it is running (soft limit). */
  | { readonly type: 'abort'; readonly id: string; readonly reason: SerializedError }
  /** Forget the task with this id if it has not started (revoked or stopped while it waited). */
  | { readonly type: 'drop'; readonly id: string };

/** Sandbox → main thread. */
export type FromSandbox =
  /** The app is loaded: send tasks. */
  | { readonly type: 'ready' }
  /** The running task ended; the one waiting behind it, if any, has started. */
  | { readonly type: 'done'; readonly id: string; readonly result: SandboxResult }
  /** The waiting task with this id was forgotten before it started. */
  | { readonly type: 'dropped'; readonly id: string }
  /** The running task with this id reported its progress (`ctx.progress`, at most a few times a second). */
  | { readonly type: 'progress'; readonly id: string; readonly progress: TaskProgress };
