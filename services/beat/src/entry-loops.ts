import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nightshift/core';
import { loopKey, type LiveEntry } from './entry-source.ts';

const RESTART_ENTRY_MS = 500;
/** A leader starting with more entries than this does not log each one (100,000 lines say less than one). */
const SAY_EACH_AT_START = 100;
/**
 * How many entries catch up at once (read their watermark, send what is due, work out their next fire time).
 * A leader starting with 100,000 entries would otherwise do all of that in one burst that holds the event loop
 * for seconds: Redis commands time out, and the lease's deadline passes before its renewal is read.
 */
const CATCHING_UP = 200;
const CATCH_UP_TURN_MS = 1_000;

/**
 * Runs one entry until `stop` aborts; `'not-leader'` when Redis says the lease is no longer ours. Calls `settled`
 * once the entry has caught up (it sleeps until its next fire time).
 */
export type EntryRunner = (live: LiveEntry, stop: AbortSignal, settled: () => void) => Promise<'stopped' | 'not-leader'>;

export interface EntryLoopsParts {
  readonly run: EntryRunner;
  /** Redis refused a fenced write: another replica holds the lease. */
  readonly notLeader: () => void;
  /** An entry's loop ended for good (removed, or beat stops leading). */
  readonly ended: (entry: string) => void;
  readonly log: Logger;
}

interface Loop {
  readonly live: LiveEntry;
  readonly key: string;
  readonly controller: AbortController;
  /** Settles when this loop and every one before it under the name has ended. */
  readonly done: Promise<void>;
}

/**
 * The leader's loops, one per entry, keyed by entry name. `apply` brings them in line with a list: a new entry
 * starts its loop, a removed one stops it, one whose definition or state changed is stopped and started again
 * (after the old loop has finished what it was sending, so two loops of one entry never run at once).
 */
export class EntryLoops {
  readonly #parts: EntryLoopsParts;
  readonly #leading: AbortSignal;
  readonly #loops = new Map<string, Loop>();
  /** Loops waiting for their turn to catch up. */
  readonly #waiting: (() => void)[] = [];
  #catchingUp = 0;

  /** @param leading aborts when this replica stops leading: every loop stops. */
  constructor(parts: EntryLoopsParts, leading: AbortSignal) {
    this.#parts = parts;
    this.#leading = leading;
  }

  get size(): number {
    return this.#loops.size;
  }

  apply(entries: readonly LiveEntry[]): void {
    if (this.#leading.aborted) return;
    // A leader starting with many entries says how many, not each.
    const quiet = this.#loops.size === 0 && entries.length > SAY_EACH_AT_START;
    if (quiet) this.#parts.log.info({ entries: entries.length }, `${entries.length} entries start`);
    const wanted = new Map(entries.map((live) => [live.entry.name, live]));
    for (const [name, loop] of this.#loops) {
      if (wanted.has(name)) continue;
      loop.controller.abort();
      this.#loops.delete(name);
      this.#parts.log.info({ entry: name }, `entry ${name} removed: no further runs`);
      void loop.done.then(() => this.#parts.ended(name));
    }
    for (const [name, live] of wanted) {
      const key = loopKey(live);
      const running = this.#loops.get(name);
      if (running?.key === key) continue;
      if (!quiet) this.#say(live, running?.live);
      running?.controller.abort();
      const controller = new AbortController();
      const previous = running?.done ?? Promise.resolve();
      this.#loops.set(name, { live, key, controller, done: previous.then(() => this.#supervise(live, controller.signal)) });
    }
  }

  /** Resolves when every loop has ended (they stop when `leading` aborts). */
  async stopped(): Promise<void> {
    for (const loop of this.#loops.values()) loop.controller.abort();
    await Promise.allSettled([...this.#loops.values()].map((loop) => loop.done));
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

  // A loop that fails (Redis answered with an error, say) starts again from the entry's watermark in Redis.
  async #supervise(live: LiveEntry, own: AbortSignal): Promise<void> {
    const stop = AbortSignal.any([own, this.#leading]);
    while (!stop.aborted) {
      const settled = await this.#turn();
      if (stop.aborted) {
        settled();
        return;
      }
      try {
        const result = await this.#parts.run(live, stop, settled);
        if (result === 'not-leader' && !this.#leading.aborted) this.#parts.notLeader();
        return;
      } catch (error) {
        this.#parts.log.warn({ err: { message: (error as Error).message }, entry: live.entry.name }, 'the entry loop failed; starting it again from its last run in Redis');
        await sleep(RESTART_ENTRY_MS, undefined, { signal: stop }).catch(() => {});
      } finally {
        settled();
      }
    }
  }

  // Waits until fewer than CATCHING_UP loops are catching up; resolves with what to call once this one has. A
  // loop catching up for longer (sending a backlog, or holding a run for `buffer-one`) gives its place after
  // CATCH_UP_TURN_MS, so that it never keeps the others from starting.
  async #turn(): Promise<() => void> {
    if (this.#catchingUp >= CATCHING_UP) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    this.#catchingUp += 1;
    let done = false;
    const settled = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.#catchingUp -= 1;
      // The next one takes this place (it counts itself when it resumes).
      const next = this.#waiting.shift();
      if (next !== undefined) setImmediate(next);
    };
    const timer = setTimeout(settled, CATCH_UP_TURN_MS);
    return settled;
  }
}
