// What the worker's main thread and a thread sandbox say to each other, over the thread's own port.
// One message per task each way: `run` there, `done` back. A sandbox holds at most one task ready behind
// the one it runs, and starts it the moment the first ends, so it never waits for the main thread.
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
  /** Run this after the task running now (at once if none). */
  | { readonly type: 'run'; readonly job: SandboxJob }
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
