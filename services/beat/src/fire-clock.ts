/** Longest single timer: a wall clock that jumps is noticed within this. */
const MAX_SLEEP_MS = 60_000;

/**
 * Wake-ups called in one turn of the event loop, at most: a boundary with 2,000 entries due wakes them in four
 * turns, with the timers (the lease's renewal) and I/O (Redis's answers) between, and each turn's claims in one batch.
 */
const WAKE_CHUNK = 500;

/**
 * A wake-up is called `'ahead'` once, about `prepareAheadMs` before its time (when the clock prepares ahead), then
 * `'due'` once its time has come. One added within `prepareAheadMs` of its time may be called `'due'` only.
 */
export type Phase = 'ahead' | 'due';

/** One wake-up waiting in the clock; `cancel` it to take it out. */
export interface ClockHandle {
  readonly atMs: number;
  cancel(): void;
}

class Node implements ClockHandle {
  readonly atMs: number;
  readonly seq: number;
  readonly wake: (arg: never, phase: Phase) => void;
  readonly arg: unknown;
  cancelled = false;
  /** Called `'ahead'` already (or it needs not be). */
  ahead = false;
  constructor(atMs: number, seq: number, wake: (arg: never, phase: Phase) => void, arg: unknown) {
    this.atMs = atMs;
    this.seq = seq;
    this.wake = wake;
    this.arg = arg;
  }
  cancel(): void {
    this.cancelled = true;
  }
}

/**
 * The leader's one timer: every entry's next due time sits in a min-heap, and a single `setTimeout` waits for the
 * earliest. A loop per entry (100,000 sleeping promises, timers and abort listeners) costs a leader gigabytes;
 * a heap node costs a few dozen bytes. Everything due at one moment wakes in the same turn of the event loop, so
 * the claims of a boundary are gathered into batches (`Batcher`). Cancelled nodes are dropped when they surface
 * (or when they outnumber the live ones), not searched for.
 */
export class FireClock {
  readonly #now: () => number;
  readonly #aheadMs: number;
  #heap: Node[] = [];
  #aheadTimer: NodeJS.Timeout | undefined;
  /** When the next look ahead is set for (the earliest time of a node not yet called `'ahead'`, less `aheadMs`). */
  #aheadAt = Number.POSITIVE_INFINITY;
  #seq = 0;
  #cancelledGuess = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #closed = false;

  /**
   * @param prepareAheadMs how long before its time each wake-up is also called `'ahead'`, so that what can be done
   * before a boundary is done before it; `0` (the default) never.
   */
  constructor(now: () => number = Date.now, prepareAheadMs = 0) {
    this.#now = now;
    this.#aheadMs = prepareAheadMs;
  }

  /** How many wake-ups wait (cancelled ones not yet dropped included). */
  get size(): number {
    return this.#heap.length;
  }

  /**
   * Calls `wake(arg, 'due')` once `atMs` has come (at once, in a later turn, if it has); see `Phase` for `'ahead'`.
   * One `wake` for many entries, each its own `arg`, spares a closure per entry (100,000 of them: about 10 MB).
   */
  at(atMs: number, wake: (arg: undefined, phase: Phase) => void): ClockHandle;
  at<T>(atMs: number, wake: (arg: T, phase: Phase) => void, arg: T): ClockHandle;
  at(atMs: number, wake: (arg: never, phase: Phase) => void, arg?: unknown): ClockHandle {
    const node = new Node(atMs, this.#seq++, wake, arg);
    if (this.#closed) {
      node.cancelled = true;
      return node;
    }
    this.#push(node);
    if (atMs < this.#timerAt) this.#arm();
    if (this.#aheadMs > 0 && atMs - this.#aheadMs < this.#aheadAt) this.#armAhead(atMs - this.#aheadMs);
    return node;
  }

  /** Notes that a handle was cancelled, so that a heap mostly of cancelled nodes is compacted. */
  cancel(handle: ClockHandle | undefined): void {
    if (handle === undefined || (handle as Node).cancelled) return;
    handle.cancel();
    this.#cancelledGuess += 1;
    if (this.#cancelledGuess > 1_024 && this.#cancelledGuess > this.#heap.length / 2) this.#compact();
  }

  /** Drops every wake-up; the clock wakes nothing more. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#aheadTimer);
    this.#timer = undefined;
    this.#aheadTimer = undefined;
    for (const node of this.#heap) node.cancelled = true;
    this.#heap = [];
  }

  #arm(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const first = this.#heap[0];
    if (first === undefined || this.#closed) return;
    const delay = Math.max(0, Math.min(first.atMs - this.#now(), MAX_SLEEP_MS));
    this.#timerAt = first.atMs;
    this.#timer = setTimeout(() => this.#fire(), delay);
  }

  // Wakes everything due, in due-time order; what a wake schedules for now wakes in a later turn.
  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    const now = this.#now();
    const due: Node[] = [];
    for (let top = this.#heap[0]; top !== undefined && (top.cancelled || top.atMs <= now); top = this.#heap[0]) {
      this.#pop();
      if (top.cancelled) this.#cancelledGuess = Math.max(0, this.#cancelledGuess - 1);
      else due.push(top);
    }
    this.#arm();
    this.#call(due, 0, 'due');
  }

  #call(nodes: readonly Node[], from: number, phase: Phase): void {
    const end = Math.min(nodes.length, from + WAKE_CHUNK);
    for (let i = from; i < end; i++) {
      const node = nodes[i] as Node;
      if (!node.cancelled && !this.#closed) (node.wake as (arg: unknown, phase: Phase) => void)(node.arg, phase);
    }
    if (end < nodes.length) setImmediate(() => this.#call(nodes, end, phase));
  }

  #armAhead(atMs: number): void {
    clearTimeout(this.#aheadTimer);
    this.#aheadTimer = undefined;
    this.#aheadAt = atMs;
    if (atMs === Number.POSITIVE_INFINITY || this.#closed) return;
    this.#aheadTimer = setTimeout(() => this.#lookAhead(), Math.max(0, Math.min(atMs - this.#now(), MAX_SLEEP_MS)));
  }

  // Calls `'ahead'` every node due within `aheadMs` not called yet, then waits for the earliest one after them. By
  // the heap's order a node's subtree is due no sooner than it: the walk goes down only while a node is due by then,
  // or (cancelled, or called already) may hide the earliest one not called yet.
  #lookAhead(): void {
    this.#aheadTimer = undefined;
    const until = this.#now() + this.#aheadMs;
    const heap = this.#heap;
    const ready: Node[] = [];
    let later = Number.POSITIVE_INFINITY;
    const stack = heap.length > 0 ? [0] : [];
    for (let i = stack.pop(); i !== undefined; i = stack.pop()) {
      const node = heap[i] as Node;
      const waiting = !node.ahead && !node.cancelled;
      if (node.atMs > until && waiting) {
        later = Math.min(later, node.atMs);
        continue;
      }
      if (waiting) {
        node.ahead = true;
        ready.push(node);
      }
      if (2 * i + 1 < heap.length) stack.push(2 * i + 1);
      if (2 * i + 2 < heap.length) stack.push(2 * i + 2);
    }
    this.#armAhead(later - this.#aheadMs);
    this.#call(ready, 0, 'ahead');
  }

  #compact(): void {
    this.#heap = this.#heap.filter((node) => !node.cancelled);
    this.#cancelledGuess = 0;
    for (let i = (this.#heap.length >> 1) - 1; i >= 0; i--) this.#down(i);
    this.#arm();
  }

  #push(node: Node): void {
    const heap = this.#heap;
    heap.push(node);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(node, heap[parent] as Node)) break;
      heap[i] = heap[parent] as Node;
      i = parent;
    }
    heap[i] = node;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop() as Node;
    if (heap.length === 0) return;
    heap[0] = last;
    this.#down(0);
  }

  #down(start: number): void {
    const heap = this.#heap;
    const node = heap[start] as Node;
    let i = start;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && before(heap[right] as Node, heap[left] as Node) ? right : left;
      if (!before(heap[child] as Node, node)) break;
      heap[i] = heap[child] as Node;
      i = child;
    }
    heap[i] = node;
  }
}

// Earlier due time first; among equals, the one scheduled first (entries wake in the order they were loaded).
function before(a: Node, b: Node): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
