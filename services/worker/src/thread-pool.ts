import { serializeError, type Logger } from '@nightshift/core';
import type { SandboxJob, SandboxResult } from './run-task.ts';
import type { SandboxOutcome, SandboxPool, SandboxRun } from './sandbox-pool.ts';
import { SandboxThread, type SandboxThreadEvents, type SandboxThreadOptions } from './sandbox-thread.ts';
import type { TaskProgress } from './task-progress.ts';

/**
 * Tasks a sandbox holds at once while its tasks are quick: the one running and those ready behind it. A sandbox
 * runs its ready tasks back to back and the main thread sends it more as outcomes come in, so it never waits for
 * the main thread's bookkeeping (ack, events, the next delivery) between tasks, and one wake-up of the thread
 * brings several. After a task that ran longer than `LONG_TASK_MS`, and behind one running that long, a sandbox
 * keeps one ready task, as the pool did before: those beyond it are taken back and go to other sandboxes.
 */
const SANDBOX_DEPTH = 8;
/** How long a task runs before the tasks waiting behind it in its sandbox beyond the next are taken back. */
const LONG_TASK_MS = 20;
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
  /** Being taken back from behind a long task, to go to another sandbox (unless its sandbox took it up first). */
  moving = false;
  /** Its place in the order tasks were given to the pool. */
  readonly order: number;
  #started = false;
  #settled = false;
  readonly #onStarted: (started: boolean) => void;
  readonly #onOutcome: (outcome: SandboxOutcome) => void;
  readonly run: SandboxRun;
  /** Where its progress reports go, while it runs. */
  readonly onProgress: ((progress: TaskProgress) => void) | undefined;

  constructor(job: SandboxJob, pool: ThreadPool, onProgress: ((progress: TaskProgress) => void) | undefined, order: number) {
    this.job = job;
    this.order = order;
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

/** A sandbox thread and the tasks it holds, in order: the one it runs first, then those ready behind it. */
interface Place {
  readonly thread: SandboxThread;
  readonly held: Assignment[];
  /** When its running task (`held[0]`) started, by `performance.now()`. */
  since: number;
  /**
   * Its last task ran longer than `LONG_TASK_MS`, or none has ended yet: the next may be long too, so it keeps one
   * ready behind it, no more (the others wait for a place in the worker, where any sandbox, or a pool that
   * replaces this one, takes them).
   */
  slow: boolean;
}

function placeOf(thread: SandboxThread): Place {
  return { thread, held: [], since: 0, slow: true };
}

/** Tasks a sandbox holds at most now: the one running and those ready behind it. */
function depthOf(place: Place, now: number): number {
  return place.slow || (place.held.length > 0 && now - place.since >= LONG_TASK_MS) ? 2 : SANDBOX_DEPTH;
}

/**
 * `size` thread sandboxes, each running one task at a time with the next ones ready behind it, plus one warm
 * spare. A task's limits count from its `started`, when its sandbox takes it up, never while it waits.
 * When a sandbox is killed (hard limit, revoke) or dies, the spare takes its place at once, the task that
 * waited behind it moves to another sandbox, and a new spare loads the app in the background.
 */
export class ThreadPool implements SandboxPool {
  readonly canKill = true;
  /** Said when `places` changes (a sandbox's tasks turned out quick or long, a sandbox was replaced). */
  onPlaces: ((places: number) => void) | undefined;
  #places: number;
  readonly #options: SandboxThreadOptions;
  readonly #log: Logger;
  readonly #active: Place[] = [];
  #spare: SandboxThread | undefined;
  readonly #pending: Assignment[] = [];
  readonly #events: SandboxThreadEvents;
  #closed = false;
  #dispatchSoon: NodeJS.Immediate | undefined;
  #spareSoon: NodeJS.Timeout | undefined;
  #longCheck: NodeJS.Timeout | undefined;
  #given = 0;
  readonly #ready: Promise<void>;

  constructor(size: number, options: SandboxThreadOptions, log: Logger) {
    this.#places = size * 2; // each sandbox is taken as slow until its first task ends
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
        const current = this.#place(thread)?.held[0];
        if (current?.job.envelope.id === id) current.onProgress?.(progress);
      },
      exit: (thread, error) => {
        if (!thread.loaded && readyCount < size) failed(error ?? new Error('a sandbox could not load the app'));
        this.#lost(thread, error);
      },
    };
    for (let i = 0; i < size; i++) this.#active.push(placeOf(this.#spawn()));
  }

  /**
   * Tasks the pool takes at once: for each sandbox the one running and those ready behind it, `SANDBOX_DEPTH` while
   * its tasks are quick, 2 while they are long (and at first). The rest wait for a place in the worker.
   */
  get places(): number {
    return this.#places;
  }

  /** Resolves when every sandbox has loaded the app; rejects if one could not. */
  ready(): Promise<void> {
    return this.#ready;
  }

  start(job: SandboxJob, onProgress?: (progress: TaskProgress) => void): SandboxRun {
    const assignment = new Assignment(job, this, onProgress, this.#given++);
    this.#pending.push(assignment);
    this.#dispatchAfterTurn();
    return assignment.run;
  }

  /** Stops an assignment: terminates its sandbox if it runs, forgets it if it waits. */
  kill(assignment: Assignment): void {
    if (assignment.killed) return;
    assignment.killed = true;
    const place = this.#active.find((p) => p.held.includes(assignment));
    if (!place) {
      const index = this.#pending.indexOf(assignment);
      if (index !== -1) this.#pending.splice(index, 1);
      assignment.settle({ killed: true });
      return;
    }
    if (place.held[0] !== assignment) {
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
    const place = this.#active.find((p) => p.held.indexOf(assignment) > 0);
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
    clearTimeout(this.#longCheck);
    const threads = [...this.#active.map((p) => p.thread), ...(this.#spare ? [this.#spare] : [])];
    for (const place of this.#active.splice(0)) {
      for (const assignment of place.held) assignment.settle({ killed: true });
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
    const now = performance.now();
    while (this.#pending.length > 0) {
      const place = this.#roomiest(now);
      if (!place) break;
      const assignment = this.#pending.shift() as Assignment;
      assignment.thread = place.thread;
      place.held.push(assignment);
      if (place.held.length === 1) {
        place.since = now;
        assignment.start();
      }
      const jobs = sent.get(place.thread);
      if (jobs) jobs.push(assignment.job);
      else sent.set(place.thread, [assignment.job]);
    }
    for (const [thread, jobs] of sent) thread.run(jobs);
    this.#watchLongTasks();
  }

  /** The ready sandbox holding the fewest tasks, with room for one more; behind a long task there is room for one. */
  #roomiest(now: number): Place | undefined {
    let roomiest: Place | undefined;
    for (const place of this.#active) {
      if (!place.thread.ready) continue;
      if (place.held.length >= depthOf(place, now)) continue;
      if (roomiest === undefined || place.held.length < roomiest.held.length) roomiest = place;
    }
    return roomiest;
  }

  /** Counts the places again, and says so when they changed. */
  #countPlaces(now: number): void {
    let places = 0;
    for (const place of this.#active) places += depthOf(place, now);
    if (places === this.#places) return;
    this.#places = places;
    this.onPlaces?.(places);
  }

  /**
   * While a sandbox that ran quick tasks runs one, checks every `LONG_TASK_MS` whether it has run that long: if so,
   * the sandbox keeps one task ready behind it (the pool's places shrink), and those beyond it are taken back
   * (`drop`) and go to other sandboxes, as they would have waited in the worker before it kept more than one ready.
   */
  #watchLongTasks(): void {
    if (this.#longCheck !== undefined || this.#closed) return;
    if (!this.#active.some((place) => place.held.length > 0 && !place.slow)) return;
    this.#longCheck = setTimeout(() => {
      this.#longCheck = undefined;
      const now = performance.now();
      this.#countPlaces(now);
      for (const place of this.#active) {
        if (place.held.length <= 2 || now - place.since < LONG_TASK_MS) continue;
        for (const waiting of place.held.slice(2)) {
          if (waiting.moving || waiting.killed || waiting.withdrawn) continue;
          waiting.moving = true;
          place.thread.drop(waiting.job.envelope.id); // `dropped` moves it, unless `done` finds it started there
        }
      }
      this.#watchLongTasks();
    }, LONG_TASK_MS);
    this.#longCheck.unref();
  }

  #done(thread: SandboxThread, id: string, result: SandboxResult): void {
    const place = this.#place(thread);
    if (!place || place.held[0]?.job.envelope.id !== id) return;
    const finished = place.held.shift() as Assignment;
    const now = performance.now();
    place.slow = result.runtimeMs >= LONG_TASK_MS;
    finished.settle(result);
    const following = place.held[0];
    if (following) place.since = now;
    this.#countPlaces(now);
    if (following) {
      following.moving = false; // taken up by its sandbox before the drop arrived: it runs here
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
    const index = place?.held.findIndex((a, i) => i > 0 && a.job.envelope.id === id) ?? -1;
    if (!place || index === -1) return;
    const [dropped] = place.held.splice(index, 1) as [Assignment];
    dropped.thread = undefined;
    if (dropped.killed || dropped.withdrawn || !dropped.moving) {
      dropped.settle({ killed: true });
    } else {
      dropped.moving = false;
      this.#requeue(dropped);
    }
    this.#dispatch();
  }

  /** Back among the waiting, in the order it was given to the pool. */
  #requeue(assignment: Assignment): void {
    const at = this.#pending.findIndex((a) => a.order > assignment.order);
    if (at === -1) this.#pending.push(assignment);
    else this.#pending.splice(at, 0, assignment);
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
    const [current, ...waiting] = place.held;
    if (current) current.settle(current.killed ? { killed: true } : { crashed: true, error: serializeError(error ?? new Error('the sandbox thread stopped')) });
    for (const next of waiting) {
      next.thread = undefined;
      next.moving = false;
      if (next.killed || next.withdrawn) next.settle({ killed: true });
      else this.#requeue(next);
    }
    if (this.#closed) return;
    if (!thread.loaded && current === undefined) {
      // It never loaded the app: spawning the next at once would spin if the app throws on import.
      this.#log.error({ err: error }, 'a sandbox could not load the app; trying again shortly');
      setTimeout(() => {
        if (this.#closed) return;
        this.#active.push(placeOf(this.#spawn()));
        this.#countPlaces(performance.now());
      }, RESPAWN_AFTER_FAILED_LOAD_MS).unref();
    } else if (this.#spare) {
      this.#active.push(placeOf(this.#spare));
      this.#spare = undefined;
      // The waiting task goes to the spare at once; the new spare follows once it is under way.
      this.#dispatch();
      this.#spawnSpareSoon();
    } else {
      this.#active.push(placeOf(this.#spawn()));
    }
    this.#countPlaces(performance.now());
    this.#dispatch();
  }
}
