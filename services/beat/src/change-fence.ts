import { SchemaNotReadyError, type Logger } from '@nightshift/core';
import { Batcher } from './batch.ts';
import type { EntrySource, LiveEntry } from './entry-source.ts';

/**
 * Entries read ahead together, at least: fewer are read at their fire time (one read, where reading ahead takes two:
 * the entries, then the mark). An entry due every second alone cost an idle leader a read a second more.
 */
const READ_AHEAD_FROM = 100;
/** How long reading ahead stays off once the store was found without the change marks. */
const AHEAD_RETRY_MS = 60_000;

/** An entry read ahead of its fire time: whether it stood as loaded, and the source's change mark then. */
interface Ahead {
  readonly current: boolean;
  readonly mark: string | undefined;
}

export interface ChangeFenceParts {
  readonly source: EntrySource;
  /** The entry changed in the source since it was loaded: read it again (its notification may have been lost). */
  readonly stale: (name: string) => void;
  readonly log: Logger;
  /** Entries read ahead together, at least (see `READ_AHEAD_FROM`, the default). */
  readonly readAheadFrom?: number;
}

/**
 * What makes "nothing is sent for a paused or removed entry after the change is acknowledged" hold. A change is
 * acknowledged when its transaction commits; beat hears of it by notification a little later (20 ms of gathering,
 * a read, then the entry's restart). A fire coming due in between would be sent under the old state. So before a
 * due fire is claimed, its entry is read again from the source (`stillCurrent`, one statement for every entry due
 * in the same turn): that read starts after the fire time, so it sees every change committed before it. An entry
 * that changed sends nothing now; its new state, on its way, decides about the fire (counted paused, left to the
 * new definition, or gone with the entry). A run claimed before a change was committed may still be sent.
 * At a boundary where thousands come due, reading each again took the first sends 150–200 ms. So the entries are
 * read a moment ahead (`readAhead`, with the source's change mark of the same moment), and at the fire time one
 * small read of the mark says whether anything was committed since: if not, what was read ahead is what a read now
 * would say; if so, each entry is read again as before.
 * Only while the source cannot be read at all does a fire go out without its entry read again (said once).
 */
export class ChangeFence {
  readonly #parts: ChangeFenceParts;
  readonly #checks: Batcher<LiveEntry, boolean> | undefined;
  /** Entries read ahead of their fire time, with the change mark of that read; none when the source keeps no mark. */
  readonly #aheadChecks: Batcher<LiveEntry, Ahead | undefined> | undefined;
  /** The change mark now, read once for the checks made in one turn. */
  readonly #marks: Batcher<void, string> | undefined;
  /** What `readAhead` found for an entry as loaded, until its fire time's check takes it, or an outage (`#unread`). */
  #ahead = new WeakMap<LiveEntry, Promise<Ahead | undefined>>();
  /** Reading ahead is off until then: the store is not migrated for it yet (see `#aheadUnready`). */
  #aheadOffUntil = 0;
  #failingSince: number | undefined;
  #probing: Promise<boolean> | undefined;

  constructor(parts: ChangeFenceParts) {
    this.#parts = parts;
    const { source } = parts;
    const { stillCurrent, stillCurrentMarked, changeMark } = source;
    if (stillCurrent === undefined) return;
    this.#checks = new Batcher((entries) => stillCurrent.call(source, entries));
    if (stillCurrentMarked === undefined || changeMark === undefined) return;
    this.#aheadChecks = new Batcher(async (entries) => {
      // A few entries due together are read at their fire time, one read as before, not two.
      if (entries.length < (parts.readAheadFrom ?? READ_AHEAD_FROM)) return entries.map(() => undefined);
      const { current, mark } = await stillCurrentMarked.call(source, entries);
      return current.map((isCurrent) => ({ current: isCurrent, mark }));
    });
    this.#marks = new Batcher(async (calls) => {
      const mark = await changeMark.call(source);
      return calls.map(() => mark);
    });
  }

  /**
   * Reads the entry a moment before its fire time (with the others about to be due), so that the check at the fire
   * time may be one read of the change mark instead (see `allows`). A read that fails leaves that check to read the
   * entry itself.
   */
  readAhead(live: LiveEntry): void {
    if (this.#aheadChecks === undefined || this.#failingSince !== undefined || this.#ahead.has(live)) return;
    if (this.#aheadOffUntil > Date.now()) return;
    this.#ahead.set(live, this.#aheadChecks.add(live).catch((error: unknown) => this.#aheadUnready(error)));
  }

  /**
   * A store without the change marks yet (beat upgraded before the store was migrated): each fire is checked by
   * reading its entry, and reading ahead waits a minute before it tries again, so that each boundary does not pay
   * for two reads that fail. Said each time it turns off.
   */
  #aheadUnready(error: unknown): undefined {
    if (!(error instanceof SchemaNotReadyError) || this.#aheadOffUntil > Date.now()) return undefined;
    this.#aheadOffUntil = Date.now() + AHEAD_RETRY_MS;
    this.#parts.log.info({ err: { message: error.message } }, 'due fires are checked by reading each entry at its fire time until the store is migrated (it has no change marks yet)');
    return undefined;
  }

  /**
   * Whether the entry's due fires may be sent now: `false` when the source has changed it since it was loaded. A
   * slow source is waited for (the store bounds a query: 5 s to connect, 30 s to answer): sending without its answer
   * could send a run after its pause was acknowledged. When it cannot answer (PostgreSQL down) the fires go out as
   * last loaded, as beat dispatches while the source cannot be read at all, until a check succeeds again.
   */
  async allows(live: LiveEntry): Promise<boolean> {
    if (this.#checks === undefined) return true;
    // Once it has failed, fires do not wait for it (a PostgreSQL that does not answer would hold each for the
    // connect timeout): one check at a time finds out when it answers again.
    if (this.#failingSince !== undefined) {
      if (this.#probing === undefined) this.#probing = this.#check(live).finally(() => (this.#probing = undefined));
      return true;
    }
    const ahead = this.#ahead.get(live);
    if (ahead !== undefined) {
      this.#ahead.delete(live);
      const current = await this.#stillAsAhead(ahead);
      if (current !== undefined) {
        if (!current) this.#parts.stale(live.entry.name);
        return current;
      }
    }
    return this.#check(live);
  }

  /**
   * What was read ahead, if nothing was committed to the source since: the change mark, read now (after the fire
   * time), is the one read with it. `undefined` when that cannot be told (a read failed, or something changed).
   */
  async #stillAsAhead(ahead: Promise<Ahead | undefined>): Promise<boolean | undefined> {
    // Read well before the fire time, as a rule: a read that did not happen (or failed) asks for no mark.
    const read = await ahead;
    if (read?.mark === undefined) return undefined;
    const mark = await (this.#marks as Batcher<void, string>).add().catch((error: unknown) => this.#aheadUnready(error));
    return mark === read.mark ? read.current : undefined;
  }

  async #check(live: LiveEntry): Promise<boolean> {
    let current: boolean;
    try {
      current = await (this.#checks as Batcher<LiveEntry, boolean>).add(live);
    } catch (error) {
      // Not migrated yet (a first start, before the alerter has migrated the store): no pause or change can have
      // been committed to tables that do not exist, so the fire goes out as loaded, and there is nothing to warn of.
      if (error instanceof SchemaNotReadyError) return true;
      this.#unread((error as Error).message);
      return true;
    }
    if (this.#failingSince !== undefined) {
      this.#parts.log.info({ downForMs: Date.now() - this.#failingSince }, 'due fires are checked against the runtime schedules again');
      this.#failingSince = undefined;
    }
    if (!current) this.#parts.stale(live.entry.name);
    return current;
  }

  // One warning per outage: meanwhile fires go out as the entries were last loaded.
  #unread(why: string): void {
    if (this.#failingSince !== undefined) return;
    this.#failingSince = Date.now();
    // What was read ahead is not kept past an outage: the server that answers after it (a standby promoted, one
    // restarted) may have lost changes that read saw, and counted as many new ones since: the mark equal, the rows not.
    this.#ahead = new WeakMap();
    this.#parts.log.warn({ err: { message: why } },
      `cannot check due fires against the runtime schedules (${why}): sending them as last loaded; a pause or removal committed meanwhile may let a run through`);
  }
}
