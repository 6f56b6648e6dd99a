import type pg from 'pg';
import { scheduleChannel } from './schedule-listener.ts';
import type { Store } from './store.ts';

/**
 * The setting a statement sets (for its own transaction) when its changes of entries and states are announced by a
 * `ScheduleAnnouncer` after it commits; migration 011's trigger then does not announce them in the commit.
 */
export const DEFER_NOTIFY = `set_config('nightshift.schedule_notify', 'deferred', true)`;

interface Batch {
  readonly names: Set<string>;
  readonly sent: Promise<void>;
}

/**
 * Announces changed entries on the store's channel after their commit, those announced meanwhile together: while one
 * batch is being sent the next gathers, so there is one notifying commit per batch, not per change. On a connection
 * of its own (a change's announcement does not wait behind the changes queued for the pool) whose commits do not wait
 * for the WAL flush (`synchronous_commit` off): PostgreSQL holds the notification queue's lock through a notifying
 * commit, and a flush under it would put every change in line behind one flush each.
 * A lost announcement costs only time: beat checks an entry's revision before each fire and reconciles periodically.
 */
export class ScheduleAnnouncer {
  readonly #store: Store;
  readonly #channel: string;
  #gathering: Batch | undefined;
  #sending: Promise<void> = Promise.resolve();
  #client: Promise<pg.Client> | undefined;

  constructor(store: Store) {
    this.#store = store;
    this.#channel = scheduleChannel(store.schema);
  }

  /** Resolves once the batch holding `name` was sent, or failed to be; never rejects. */
  announce(name: string): Promise<void> {
    if (this.#gathering === undefined) {
      const names = new Set<string>();
      const sent = this.#sending.then(async () => {
        // From here the next names gather in another batch.
        if (this.#gathering?.names === names) this.#gathering = undefined;
        await this.#send([...names]);
      });
      this.#gathering = { names, sent };
      this.#sending = sent;
    }
    this.#gathering.names.add(name);
    return this.#gathering.sent;
  }

  async #send(names: readonly string[]): Promise<void> {
    // Once more on a fresh connection when the one held was lost (a restart, an idle timeout): a change not announced
    // waits for beat's next reconcile to be seen (a pause or removal is obeyed all the same: beat checks the revision).
    for (let attempt = 0; attempt < 2 && !this.#store.closed; attempt++) {
      try {
        const client = await this.#connect();
        await client.query('SELECT count(pg_notify($1, name)) FROM unnest($2::text[]) AS name', [this.#channel, names]);
        return;
      } catch {
        const lost = this.#client;
        this.#client = undefined;
        void lost?.then((client) => client.end()).catch(() => {});
      }
    }
  }

  #connect(): Promise<pg.Client> {
    this.#client ??= (async () => {
      const client = this.#store.dedicatedClient('nightshift schedule announcer');
      // A connection lost while idle is noticed at the next batch's query; this keeps its error from being unhandled.
      client.on('error', () => {});
      const forget = this.#store.onClose(() => client.end());
      client.once('end', forget);
      await client.connect();
      if (this.#store.closed) throw new Error('the store is closed');
      await client.query('SET synchronous_commit = off');
      return client;
    })();
    return this.#client;
  }
}
