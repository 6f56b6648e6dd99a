import type { Logger } from '@nightshift/core';
import { MAX_BATCH } from './batch.ts';
import { loopKey, type LiveEntry } from './entry-source.ts';
import type { EntryLoop, EntryStop, NextDue } from './entry-loop.ts';
import type { ClockHandle, FireClock, Phase } from './fire-clock.ts';
import { soonestFirst } from './start-order.ts';
import { holdYoungGeneration } from './young-generation.ts';

const RESTART_ENTRY_MS = 500;
/** A leader starting with more entries than this does not log each one (100,000 lines say less than one). */
const SAY_EACH_AT_START = 100;
/**
 * How many entries catch up at once (read their watermark, send what is due, work out their next fire time): a few
 * pages of `MAX_BATCH`, each page's watermarks read in one Redis call (`Batcher`), the calls in flight together so
 * that a start of 100,000 entries waits for Redis's answers a few times over, not 200 times one after another. The
 * event loop (the lease's renewals) gets a turn between pages: a leader starting never holds it for seconds.
 */
const PAGE = 4 * MAX_BATCH;
/** An entry catching up for longer (sending a backlog, holding a run for `buffer-one`) gives its place after this. */
const CATCH_UP_TURN_MS = 1_000;

export interface EntryEngineParts {
  /** A new `EntryLoop` for the entry (each restart of an entry reads its watermark again). */
  readonly loop: (live: LiveEntry, stop: EntryStop) => EntryLoop;
  readonly clock: FireClock;
  /** Redis refused a fenced write: another replica holds the lease. */
  readonly notLeader: () => void;
  /** An entry ended for good (removed, or beat stops leading). */
  readonly ended: (entry: string) => void;
  /**
   * When the entry is first due after `nowMs` (ms), worked out from its schedule alone: a start of many entries
   * starts the soonest due first (`soonestFirst`). Without it, they start in the order given.
   */
  readonly firstDue?: (live: LiveEntry, nowMs: number) => number;
  readonly log: Logger;
}

/** What a new entry waits for before it starts: nothing (one promise for all of them, not one each). */
const NOTHING_BEFORE: Promise<void> = Promise.resolve();

/**
 * One entry as the leader dispatches it, and what stops it. A leader holds 100,000 of them: the stop is a flag, with
 * an `AbortController` made only when a wait asks for its signal (not a controller and a signal each).
 */
class Slot implements EntryStop {
  readonly live: LiveEntry;
  /**
   * Settles when the slot of this name before it has finished what it was doing; `NOTHING_BEFORE` once it has (or
   * when there was none).
   */
  after: Promise<void>;
  /** Started with many others: what its start finds is said for all of them at once. */
  readonly quiet: boolean;
  loop: EntryLoop | undefined = undefined;
  /** Its wake-up in the clock while it waits for its next due time. */
  wake: ClockHandle | undefined = undefined;
  /** Its catch-up in flight, if any. */
  busy: Promise<void> | undefined = undefined;
  #stopped = false;
  #controller: AbortController | undefined = undefined;

  constructor(live: LiveEntry, after: Promise<void>, quiet: boolean) {
    this.live = live;
    this.after = after;
    this.quiet = quiet;
  }

  get aborted(): boolean {
    return this.#stopped;
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController();
    if (this.#stopped) this.#controller.abort();
    return this.#controller.signal;
  }

  stop(): void {
    this.#stopped = true;
    this.#controller?.abort();
  }
}

/**
 * The leader's entries, keyed by name, each waiting in the `FireClock` for its next due time (no loop, timer or
 * promise of its own while it waits). `apply` brings them in line with a full list and `update` with a few
 * changes: a new entry starts (its watermark read in pages), a removed one stops, one whose definition or state
 * changed is stopped and started again after the old one has finished what it was sending, so that two of one
 * entry never run at once.
 */
export class EntryEngine {
  readonly #parts: EntryEngineParts;
  readonly #leading: AbortSignal;
  readonly #slots = new Map<string, Slot>();
  /** Slots waiting for their page. */
  #queue: Slot[] = [];
  #queueAt = 0;
  #catchingUp = 0;
  #pumping = false;
  #pumpAgain = false;
  /** Entries of a quiet start that Redis had never seen, not yet said. */
  #newUnsaid = 0;
  /** When a quiet start began, until every entry of it has started. */
  #quietSince: number | undefined;
  /** Releases the hold on V8's young generation that a quiet start keeps (what it builds lives long). */
  #releaseYoung: (() => void) | undefined;
  #sayNew: NodeJS.Timeout | undefined;
  /** While a start of many entries is put in order (`soonestFirst`): the changes that came meanwhile. */
  #held: (() => void)[] | undefined;
  /** What the clock calls when a slot is due: one function for every slot, not a closure each. */
  // A little before it is due the loop works out what it can ahead (`EntryLoop.prepare`), so that a boundary where
  // thousands are due at once spends its time sending.
  readonly #wakeSlot = (slot: Slot, phase: Phase): void => (phase === 'ahead' ? slot.loop?.prepare() : void this.#wakeUp(slot));

  /** @param leading aborts when this replica stops leading: every entry stops. */
  constructor(parts: EntryEngineParts, leading: AbortSignal) {
    this.#parts = parts;
    this.#leading = leading;
    leading.addEventListener('abort', () => {
      this.#releaseYoung?.();
      for (const slot of this.#slots.values()) this.#retire(slot);
    }, { once: true });
  }

  get size(): number {
    return this.#slots.size;
  }

  /** Brings the entries in line with the whole list. */
  apply(entries: readonly LiveEntry[]): void {
    if (this.#leading.aborted) return;
    if (this.#held !== undefined) {
      this.#held.push(() => this.apply(entries));
      return;
    }
    // A leader starting with many entries says how many, not each.
    const quiet = this.#slots.size === 0 && entries.length > SAY_EACH_AT_START;
    if (quiet) {
      this.#parts.log.info({ entries: entries.length }, `${entries.length} entries start`);
      this.#quietSince = Date.now();
      this.#releaseYoung = holdYoungGeneration();
    }
    const { firstDue } = this.#parts;
    if (!quiet || firstDue === undefined) {
      this.#applyInOrder(entries, quiet);
      return;
    }
    // Changes heard while the start is put in order wait for it, and then follow in the order they came.
    const held: (() => void)[] = [];
    this.#held = held;
    const now = Date.now();
    void soonestFirst(entries, (live) => firstDue(live, now)).then((ordered) => {
      this.#held = undefined;
      if (this.#leading.aborted) return;
      this.#applyInOrder(ordered, quiet);
      for (const change of held) change();
    });
  }

  #applyInOrder(entries: readonly LiveEntry[], quiet: boolean): void {
    // A leader starting has nothing to remove: no map of 100,000 names to find that out (its garbage would be promoted
    // with everything else the start builds).
    if (this.#slots.size === 0) {
      this.update(entries, [], quiet);
      return;
    }
    const wanted = new Map(entries.map((live) => [live.entry.name, live]));
    const removed = [...this.#slots.keys()].filter((name) => !wanted.has(name));
    this.update(wanted.values(), removed, quiet);
  }

  /** Applies some changes: entries added or changed (or unchanged: nothing happens), and names removed. */
  update(changed: Iterable<LiveEntry>, removed: Iterable<string>, quiet = false): void {
    if (this.#leading.aborted) return;
    if (this.#held !== undefined) {
      const [someChanged, someRemoved] = [[...changed], [...removed]];
      this.#held.push(() => this.update(someChanged, someRemoved, quiet));
      return;
    }
    for (const name of removed) {
      const slot = this.#slots.get(name);
      if (slot === undefined) continue;
      this.#slots.delete(name);
      const done = this.#retire(slot);
      this.#parts.log.info({ entry: name }, `entry ${name} removed: no further runs`);
      void done.then(() => this.#parts.ended(name));
    }
    for (const live of changed) {
      const name = live.entry.name;
      const running = this.#slots.get(name);
      if (running !== undefined && loopKey(running.live) === loopKey(live)) continue;
      if (!quiet) this.#say(live, running?.live);
      const after = running === undefined ? NOTHING_BEFORE : this.#retire(running);
      const slot = new Slot(live, after, quiet);
      this.#slots.set(name, slot);
      this.#queue.push(slot);
    }
    this.#pump();
  }

  /** Resolves when every entry has stopped (they stop when `leading` aborts). */
  async stopped(): Promise<void> {
    const sending: Promise<void>[] = [];
    for (const slot of this.#slots.values()) {
      const done = this.#retire(slot);
      if (done !== NOTHING_BEFORE) sending.push(done);
    }
    this.#queue = [];
    this.#queueAt = 0;
    await Promise.allSettled(sending);
  }

  // Stops a slot; resolves once what it was sending is finished, and a run it claimed ahead and did not send unclaimed.
  // A slot waiting in the clock with nothing claimed ahead (nearly all of them) has nothing to wait for: a leader of
  // 100,000 entries that stopped or lost its lease made eleven promises each, and its old generation grew by some
  // 100 MB (RSS 443-486 MB at exit, from 370-420) on its way out.
  #retire(slot: Slot): Promise<void> {
    slot.stop();
    this.#parts.clock.cancel(slot.wake);
    slot.wake = undefined;
    if (slot.busy === undefined && slot.after === NOTHING_BEFORE && slot.loop?.claimedAhead !== true) return NOTHING_BEFORE;
    const done = Promise.all([slot.after, slot.busy]).then(() => slot.loop?.release());
    // Retired twice (the leader stops, then waits for its entries): the second waits for the first's release.
    slot.busy = done;
    return done;
  }

  // Starts queued slots, a page at a time; each page's watermarks are read in one Redis call.
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#catchingUp < PAGE && this.#queueAt < this.#queue.length) {
        const slot = this.#queue[this.#queueAt++] as Slot;
        if (slot.aborted) continue;
        this.#catchingUp += 1;
        let done = false;
        const settled = () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          this.#catchingUp -= 1;
          if (this.#catchingUp === 0 && this.#queue.length === 0) this.#started();
          // The next page starts in a later turn: timers (the lease's renewal) run in between.
          if (this.#catchingUp < PAGE / 2 && !this.#pumpAgain) {
            this.#pumpAgain = true;
            setImmediate(() => {
              this.#pumpAgain = false;
              this.#pump();
            });
          }
        };
        const timer = setTimeout(settled, CATCH_UP_TURN_MS);
        void slot.after.then(() => {
          slot.after = NOTHING_BEFORE;
          return this.#wakeUp(slot);
        }).finally(() => settled());
      }
      if (this.#queueAt >= this.#queue.length) {
        this.#queue = [];
        this.#queueAt = 0;
      }
    } finally {
      this.#pumping = false;
    }
  }

  // Runs the slot's catch-up and puts it back in the clock for when it is next due.
  #wakeUp(slot: Slot): Promise<void> {
    slot.wake = undefined;
    if (slot.aborted) return Promise.resolve();
    const busy = this.#catchUp(slot).finally(() => {
      if (slot.busy === busy) slot.busy = undefined;
    });
    slot.busy = busy;
    return busy;
  }

  async #catchUp(slot: Slot): Promise<void> {
    let next: NextDue;
    try {
      if (slot.loop === undefined) {
        const loop = this.#parts.loop(slot.live, slot);
        const begun = await loop.begin();
        if (begun === 'not-leader') {
          this.#notLeader();
          return;
        }
        if (begun === 'new') this.#saidNew(slot);
        slot.loop = loop;
      }
      next = await slot.loop.catchUp();
    } catch (error) {
      // It starts again from the entry's watermark in Redis (Redis answered with an error, say).
      if (slot.aborted) return;
      this.#parts.log.warn({ err: { message: (error as Error).message }, entry: slot.live.entry.name }, 'the entry failed; starting it again from its last run in Redis');
      // A run it claimed ahead is undone first: its claim, this leader's own, would make that fire time `handled` for
      // the loop started again, and no leader would send it.
      await slot.loop?.release();
      slot.loop = undefined;
      next = Date.now() + RESTART_ENTRY_MS;
    }
    if (next === 'not-leader') this.#notLeader();
    if (typeof next !== 'number' || slot.aborted) return;
    slot.wake = this.#parts.clock.at(next, this.#wakeSlot, slot);
  }

  // How long a leader with many entries took to start them all, and what they take in memory.
  #started(): void {
    if (this.#quietSince === undefined) return;
    this.#releaseYoung?.();
    this.#releaseYoung = undefined;
    const memory = process.memoryUsage();
    const mb = (bytes: number) => Math.round(bytes / 1_048_576);
    this.#parts.log.info({ entries: this.#slots.size, startMs: Date.now() - this.#quietSince, heapUsedMb: mb(memory.heapUsed), heapTotalMb: mb(memory.heapTotal), rssMb: mb(memory.rss) },
      `all ${this.#slots.size} entries started in ${((Date.now() - this.#quietSince) / 1_000).toFixed(1)} s`);
    this.#quietSince = undefined;
  }

  // One line per entry; for a leader starting with many, one line a second saying how many.
  #saidNew(slot: Slot): void {
    const { log } = this.#parts;
    if (!slot.quiet) {
      log.info({ entry: slot.live.entry.name }, 'entry not seen before: its runs start from now');
      return;
    }
    this.#newUnsaid += 1;
    if (this.#sayNew !== undefined) return;
    this.#sayNew = setTimeout(() => {
      this.#sayNew = undefined;
      log.info({ entries: this.#newUnsaid }, `${this.#newUnsaid} entries not seen before: their runs start from now`);
      this.#newUnsaid = 0;
    }, 1_000).unref();
  }

  #notLeader(): void {
    if (!this.#leading.aborted) this.#parts.notLeader();
  }

  // What changed, for whoever reads the log at 3 AM: the app's own entries are listed at start-up already.
  #say(live: LiveEntry, before: LiveEntry | undefined): void {
    const { log } = this.#parts;
    const { entry } = live;
    const fields = { entry: entry.name, task: entry.task, source: entry.source, revision: live.revision };
    if (before === undefined) {
      if (entry.source === 'runtime') log.info(fields, `runtime entry ${entry.name} added${live.paused ? ' (paused)' : ''}`);
      else if (live.paused) log.info(fields, `entry ${entry.name} is paused: its runs are counted, not sent`);
    } else if (before.revision !== live.revision) {
      log.info(fields, `entry ${entry.name} changed: its runs follow the new definition`);
    } else if (before.paused !== live.paused) {
      log.info(fields, live.paused ? `entry ${entry.name} paused: its runs are counted, not sent` : `entry ${entry.name} resumed: it runs from its next fire time`);
    }
  }
}
