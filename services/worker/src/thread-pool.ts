import { serializeError, type Logger } from '@nightshift/core';
import type { SandboxJob, SandboxResult } from './run-task.ts';
import type { SandboxOutcome, SandboxPool, SandboxRun } from './sandbox-pool.ts';
import { SandboxThread, type SandboxThreadEvents, type SandboxThreadOptions } from './sandbox-thread.ts';
import type { TaskProgress } from './task-progress.ts';

/** How long a sandbox that failed to load the app waits before the next is spawned (an app that throws on import). */
const RESPAWN_AFTER_FAILED_LOAD_MS = 1_000;
/**
 * How long after the pool is ready, or after its spare took a killed sandbox's place, a new spare is spawned. A
 * thread loading the app keeps a core busy for a while: first the pool's first tasks, or the task that moved to
 * the spare, have it (on a 2-core machine, a spare spawned at once delayed the moved task's start by a few ms).
 */
const SPARE_AFTER_MS = 250;

/** One task given to the pool, from `start` until its outcome. */
class Assignment {
  readonly job: SandboxJob;
  thread: SandboxThread | undefined;
  /** Asked to stop: the sandbox running it is terminated, or it is dropped before it starts. */
  killed = false;
  /** Asked to be dropped only if it has not started; it no longer goes to another sandbox. */
  withdrawn = false;
  #started = false;
  #settled = false;
  readonly #onStarted: (started: boolean) => void;
  readonly #onOutcome: (outcome: SandboxOutcome) => void;
  readonly run: SandboxRun;
  /** Where its progress reports go, while it runs. */
  readonly onProgress: ((progress: TaskProgress) => void) | undefined;

  constructor(job: SandboxJob, pool: ThreadPool, onProgress: ((progress: TaskProgress) => void) | undefined) {
    this.job = job;
    this.onProgress = onProgress;
    let onStarted: (started: boolean) => void = () => {};
    let onOutcome: (outcome: SandboxOutcome) => void = () => {};
    const started = new Promise<boolean>((resolve) => { onStarted = resolve; });
    const outcome = new Promise<SandboxOutcome>((resolve) => { onOutcome = resolve; });
    this.#onStarted = onStarted;
    this.#onOutcome = onOutcome;
    this.run = {
      started, outcome,
      abort: (reason) => { if (this.#started && !this.#settled) this.thread?.abort(job.envelope.id, serializeError(reason)); },
      kill: () => pool.kill(this),
      withdraw: () => pool.withdraw(this),
    };
  }

  get started(): boolean {
    return this.#started;
  }

  start(): void {
    this.#started = true;
    this.#onStarted(true);
  }

  settle(outcome: SandboxOutcome): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#onStarted(this.#started);
    this.#onOutcome(outcome);
  }
}

/** A sandbox thread and the tasks it holds: the one it runs and at most one ready behind it. */
interface Place {
  readonly thread: SandboxThread;
  current: Assignment | undefined;
  next: Assignment | undefined;
}

/**
 * `size` thread sandboxes, each running one task at a time with the next one ready behind it, plus one warm
 * spare. A task's limits count from its `started`, when its sandbox takes it up, never while it waits.
 * When a sandbox is killed (hard limit, revoke) or dies, the spare takes its place at once, the task that
 * waited behind it moves to another sandbox, and a new spare loads the app in the background.
 */
export class ThreadPool implements SandboxPool {
  readonly canKill = true;
  /** Tasks the pool holds at once: one running and one ready per sandbox. */
  readonly places: number;
  readonly #options: SandboxThreadOptions;
  readonly #log: Logger;
  readonly #active: Place[] = [];
  #spare: SandboxThread | undefined;
  readonly #pending: Assignment[] = [];
  readonly #events: SandboxThreadEvents;
  #closed = false;
  #dispatchSoon: NodeJS.Immediate | undefined;
  #spareSoon: NodeJS.Timeout | undefined;
  readonly #ready: Promise<void>;

  constructor(size: number, options: SandboxThreadOptions, log: Logger) {
    this.places = size * 2;
    this.#options = options;
    this.#log = log;
    let readyCount = 0;
    let allReady: () => void = () => {};
    let failed: (error: Error) => void = () => {};
    this.#ready = new Promise<void>((resolve, reject) => { allReady = resolve; failed = reject; });
    this.#ready.catch(() => {});
    this.#events = {
      ready: (thread) => {
        if (this.#place(thread) && ++readyCount === size) {
          allReady();
          this.#spawnSpareSoon();
        }
        this.#dispatch();
      },
      done: (thread, id, result) => this.#done(thread, id, result),
      dropped: (thread, id) => this.#dropped(thread, id),
      progress: (thread, id, progress) => {
        const current = this.#place(thread)?.current;
        if (current?.job.envelope.id === id) current.onProgress?.(progress);
      },
      exit: (thread, error) => {
        if (!thread.loaded && readyCount < size) failed(error ?? new Error('a sandbox could not load the app'));
        this.#lost(thread, error);
      },
    };
    for (let i = 0; i < size; i++) this.#active.push({ thread: this.#spawn(), current: undefined, next: undefined });
  }

  /** Resolves when every sandbox has loaded the app; rejects if one could not. */
  ready(): Promise<void> {
    return this.#ready;
  }

  start(job: SandboxJob, onProgress?: (progress: TaskProgress) => void): SandboxRun {
    const assignment = new Assignment(job, this, onProgress);
    this.#pending.push(assignment);
    this.#dispatchAfterTurn();
    return assignment.run;
  }

  /** Stops an assignment: terminates its sandbox if it runs, forgets it if it waits. */
  kill(assignment: Assignment): void {
    if (assignment.killed) return;
    assignment.killed = true;
    const place = this.#active.find((p) => p.current === assignment || p.next === assignment);
    if (!place) {
      const index = this.#pending.indexOf(assignment);
      if (index !== -1) this.#pending.splice(index, 1);
      assignment.settle({ killed: true });
      return;
    }
    if (place.next === assignment) {
      place.thread.drop(assignment.job.envelope.id); // `dropped` settles it, or `done` finds it started and kills it
      return;
    }
    // The spare takes over before the thread is told to stop: the next task need not wait for that either.
    this.#lost(place.thread, undefined);
    void place.thread.terminate();
  }

  /** Forgets an assignment that has not started; one its sandbox took up (perhaps a moment ago) runs on. */
  withdraw(assignment: Assignment): void {
    if (assignment.started || assignment.killed) return;
    const place = this.#active.find((p) => p.next === assignment);
    if (!place) {
      const index = this.#pending.indexOf(assignment);
      if (index !== -1) this.#pending.splice(index, 1);
      assignment.settle({ killed: true });
      return;
    }
    assignment.withdrawn = true;
    place.thread.drop(assignment.job.envelope.id); // `dropped` settles it, unless `done` finds it started: then it runs
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearImmediate(this.#dispatchSoon);
    clearTimeout(this.#spareSoon);
    const threads = [...this.#active.map((p) => p.thread), ...(this.#spare ? [this.#spare] : [])];
    for (const place of this.#active.splice(0)) {
      for (const assignment of [place.current, place.next]) assignment?.settle({ killed: true });
    }
    for (const assignment of this.#pending.splice(0)) assignment.settle({ killed: true });
    this.#spare = undefined;
    await Promise.all(threads.map((t) => t.terminate()));
  }

  #spawnSpareSoon(): void {
    if (this.#spareSoon !== undefined || this.#closed) return;
    this.#spareSoon = setTimeout(() => {
      this.#spareSoon = undefined;
      if (!this.#closed) this.#spare ??= this.#spawn();
    }, SPARE_AFTER_MS);
    this.#spareSoon.unref();
  }

  #spawn(): SandboxThread {
    return new SandboxThread(this.#options, this.#events);
  }

  #place(thread: SandboxThread): Place | undefined {
    return this.#active.find((p) => p.thread === thread);
  }

  /**
   * Places waiting assignments once this turn of the event loop is over: the outcomes of a turn (a sandbox's
   * `done` messages often arrive together) free places together, and a sandbox gets its new tasks in one message.
   */
  #dispatchAfterTurn(): void {
    this.#dispatchSoon ??= setImmediate(() => {
      this.#dispatchSoon = undefined;
      this.#dispatch();
    });
  }

  #dispatch(): void {
    const sent = new Map<SandboxThread, SandboxJob[]>();
    while (this.#pending.length > 0) {
      const place = this.#active.find((p) => p.thread.ready && !p.current) ?? this.#active.find((p) => p.thread.ready && !p.next);
      if (!place) break;
      const assignment = this.#pending.shift() as Assignment;
      assignment.thread = place.thread;
      if (place.current) {
        place.next = assignment;
      } else {
        place.current = assignment;
        assignment.start();
      }
      const jobs = sent.get(place.thread);
      if (jobs) jobs.push(assignment.job);
      else sent.set(place.thread, [assignment.job]);
    }
    for (const [thread, jobs] of sent) thread.run(jobs);
  }

  #done(thread: SandboxThread, id: string, result: SandboxResult): void {
    const place = this.#place(thread);
    if (!place || place.current?.job.envelope.id !== id) return;
    const finished = place.current;
    place.current = place.next;
    place.next = undefined;
    finished.settle(result);
    const following = place.current;
    if (following) {
      following.start();
      if (following.killed) {
        // Asked to stop while it waited, but the sandbox took it up first: stop it the only way there is.
        void thread.terminate();
        this.#lost(thread, undefined);
        return;
      }
    }
    this.#dispatchAfterTurn();
  }

  #dropped(thread: SandboxThread, id: string): void {
    const place = this.#place(thread);
    if (!place || place.next?.job.envelope.id !== id) return;
    const dropped = place.next;
    place.next = undefined;
    dropped.settle({ killed: true });
    this.#dispatch();
  }

  /** A sandbox is gone (killed by us, or died): the spare takes its place, and what waited there moves on. */
  #lost(thread: SandboxThread, error: Error | undefined): void {
    if (this.#spare === thread) {
      // A spare that could not load the app (it runs nothing else): another, after a pause.
      this.#spare = undefined;
      setTimeout(() => { if (!this.#closed) this.#spare ??= this.#spawn(); }, RESPAWN_AFTER_FAILED_LOAD_MS).unref();
      return;
    }
    const index = this.#active.findIndex((p) => p.thread === thread);
    if (index === -1) return;
    const [place] = this.#active.splice(index, 1) as [Place];
    const { current, next } = place;
    if (current) current.settle(current.killed ? { killed: true } : { crashed: true, error: serializeError(error ?? new Error('the sandbox thread stopped')) });
    if (next) {
      next.thread = undefined;
      if (next.killed || next.withdrawn) next.settle({ killed: true });
      else this.#pending.unshift(next);
    }
    if (this.#closed) return;
    if (!thread.loaded && current === undefined) {
      // It never loaded the app: spawning the next at once would spin if the app throws on import.
      this.#log.error({ err: error }, 'a sandbox could not load the app; trying again shortly');
      setTimeout(() => {
        if (!this.#closed) this.#active.push({ thread: this.#spawn(), current: undefined, next: undefined });
      }, RESPAWN_AFTER_FAILED_LOAD_MS).unref();
    } else if (this.#spare) {
      this.#active.push({ thread: this.#spare, current: undefined, next: undefined });
      this.#spare = undefined;
      // The waiting task goes to the spare at once; the new spare follows once it is under way.
      this.#dispatch();
      this.#spawnSpareSoon();
    } else {
      this.#active.push({ thread: this.#spawn(), current: undefined, next: undefined });
    }
    this.#dispatch();
  }
}
