import type { Store } from './store.ts';

/** What people did to a broker queue. */
export type QueueActionKind = 'purged' | 'promoted';

/** One entry of a queue's audit trail. */
export interface QueueAction {
  /** The broker's queue name (`nightshift.retry.30s`). */
  readonly queue: string;
  readonly action: QueueActionKind;
  readonly by: string;
  /** ISO 8601. */
  readonly at: string;
  /** purged: `messages`; promoted: `taskId`, `task`, `to` (the work queue). */
  readonly detail: Record<string, unknown>;
}

/** The audit trail of purges and promotions: who, when, what. */
export class QueueActions {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  async record(queue: string, action: QueueActionKind, by: string, detail: Record<string, unknown>): Promise<void> {
    await this.#store.query(`INSERT INTO ${this.#store.table('queue_actions')} (queue, action, by, detail) VALUES ($1, $2, $3, $4)`, [queue, action, by, JSON.stringify(detail)]);
  }

  /** The latest actions on `queue`, newest first. */
  async list(queue: string, limit = 20): Promise<readonly QueueAction[]> {
    const { rows } = await this.#store.query<{ queue: string; action: QueueActionKind; by: string; at: Date; detail: Record<string, unknown> }>(
      `SELECT queue, action, by, at, detail FROM ${this.#store.table('queue_actions')} WHERE queue = $1 ORDER BY id DESC LIMIT $2`, [queue, limit]);
    return rows.map((row) => ({ ...row, at: row.at.toISOString() }));
  }
}
