import type { Logger } from '@nightshift/core';
import { Batcher } from './batch.ts';
import type { EntrySource, LiveEntry } from './entry-source.ts';

/**
 * How long a fire waits for the source to say whether its entry still stands. Past it (PostgreSQL slow or down) the
 * fire goes on with the entry as last loaded, as beat dispatches while the source cannot be read at all.
 */
const WAIT_MS = 2_000;

export interface ChangeFenceParts {
  readonly source: EntrySource;
  /** The entry changed in the source since it was loaded: read it again (its notification may have been lost). */
  readonly stale: (name: string) => void;
  readonly log: Logger;
}

/**
 * What makes "nothing is sent for a paused or removed entry after the change is acknowledged" hold. A change is
 * acknowledged when its transaction commits; beat hears of it by notification a little later (20 ms of gathering,
 * a read, then the entry's restart). A fire coming due in between would be sent under the old state. So before a
 * due fire is claimed, its entry is read again from the source (`stillCurrent`, one statement for every entry due
 * in the same turn): that read starts after the fire time, so it sees every change committed before it. An entry
 * that changed sends nothing now; its new state, on its way, decides about the fire (counted paused, left to the
 * new definition, or gone with the entry). A run claimed before a change was committed may still be sent.
 */
export class ChangeFence {
  readonly #parts: ChangeFenceParts;
  readonly #checks: Batcher<LiveEntry, boolean> | undefined;
  #failingSince: number | undefined;

  constructor(parts: ChangeFenceParts) {
    this.#parts = parts;
    const { source } = parts;
    this.#checks = source.stillCurrent === undefined ? undefined : new Batcher((entries) => (source.stillCurrent as NonNullable<EntrySource['stillCurrent']>)(entries));
  }

  /** Whether the entry's due fires may be sent now: `false` when the source has changed it since it was loaded. */
  async allows(live: LiveEntry): Promise<boolean> {
    if (this.#checks === undefined) return true;
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), WAIT_MS);
    });
    let current: boolean | 'late';
    try {
      current = await Promise.race([this.#checks.add(live), late]);
    } catch (error) {
      this.#unread((error as Error).message);
      return true;
    } finally {
      clearTimeout(timer);
    }
    if (current === 'late') {
      this.#unread(`no answer within ${WAIT_MS} ms`);
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
    this.#parts.log.warn({ err: { message: why } },
      `cannot check due fires against the runtime schedules (${why}): sending them as last loaded; a pause or removal committed meanwhile may let a run through`);
  }
}
