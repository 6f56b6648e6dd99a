import type { Store } from './store.ts';

/** One notification waiting in the outbox for one channel. */
export interface OutboxEntry {
  readonly id: string;
  readonly channel: string;
  readonly kind: 'page' | 'summary' | 'schedule';
  readonly groupKey: string;
  /** The alert as written when it was enqueued: plain JSON, already redacted. */
  readonly alert: Record<string, unknown>;
  /** Attempts so far, this one included. */
  readonly attempts: number;
  /** ISO 8601. */
  readonly createdAt: string;
}

export interface OutboxStats {
  /** Entries not sent yet. */
  readonly depth: number;
  /** Age of the oldest entry not sent yet, in seconds; 0 when the outbox is empty. */
  readonly oldestAgeSeconds: number;
}

interface OutboxRow {
  id: string;
  channel: string;
  kind: 'page' | 'summary' | 'schedule';
  group_key: string;
  alert: Record<string, unknown>;
  attempts: number;
  created_at: Date;
}

/**
 * The `alert_outbox` table. Entries are claimed with a lease (`FOR UPDATE SKIP LOCKED`), so several alerters
 * never send one entry at once, and one whose sender died is claimed again when its lease runs out.
 */
export class AlertOutbox {
  readonly #store: Store;
  readonly #table: string;

  constructor(store: Store) {
    this.#store = store;
    this.#table = store.table('alert_outbox');
  }

  /** Claims up to `limit` due entries, oldest first, for `leaseMs`; counts the attempt. */
  async claim(limit: number, leaseMs: number): Promise<OutboxEntry[]> {
    const { rows } = await this.#store.query<OutboxRow>(
      `UPDATE ${this.#table} SET locked_until = now() + $2 * interval '1 millisecond', attempts = attempts + 1
        WHERE id IN (SELECT id FROM ${this.#table}
                      WHERE sent_at IS NULL AND due_at <= now() AND (locked_until IS NULL OR locked_until < now())
                      ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
        RETURNING id, channel, kind, group_key, alert, attempts, created_at`,
      [limit, leaseMs],
    );
    return rows
      .map((row) => ({ id: String(row.id), channel: row.channel, kind: row.kind, groupKey: row.group_key, alert: row.alert, attempts: row.attempts, createdAt: row.created_at.toISOString() }))
      .sort((a, b) => Number(a.id) - Number(b.id));
  }

  async markSent(id: string): Promise<void> {
    await this.#store.query(`UPDATE ${this.#table} SET sent_at = now(), locked_until = NULL, last_error = NULL WHERE id = $1`, [id]);
  }

  /** Records a failed attempt; the entry is due again after `retryInMs`. */
  async markFailed(id: string, error: string, retryInMs: number): Promise<void> {
    await this.#store.query(
      `UPDATE ${this.#table} SET locked_until = NULL, last_error = $2, due_at = now() + $3 * interval '1 millisecond' WHERE id = $1`,
      [id, error.slice(0, 2_000), retryInMs],
    );
  }

  /** Puts an entry back untried (a rate limit held it), due after `delayMs`. */
  async postpone(id: string, delayMs: number): Promise<void> {
    await this.#store.query(
      `UPDATE ${this.#table} SET locked_until = NULL, attempts = greatest(attempts - 1, 0), due_at = now() + $2 * interval '1 millisecond' WHERE id = $1`,
      [id, delayMs],
    );
  }

  /** Entries of `channel` sent within the last `withinMs`, and when the oldest of them was sent (ISO 8601). */
  async sentWithin(channel: string, withinMs: number): Promise<{ count: number; oldest: string | null }> {
    const { rows } = await this.#store.query<{ count: string; oldest: Date | null }>(
      `SELECT count(*) AS count, min(sent_at) AS oldest FROM ${this.#table} WHERE channel = $1 AND sent_at > now() - $2 * interval '1 millisecond'`,
      [channel, withinMs],
    );
    return { count: Number(rows[0]?.count ?? 0), oldest: rows[0]?.oldest?.toISOString() ?? null };
  }

  async stats(): Promise<OutboxStats> {
    const { rows } = await this.#store.query<{ depth: string; oldest: number | null }>(
      `SELECT count(*) AS depth, extract(epoch FROM now() - min(created_at))::float8 AS oldest FROM ${this.#table} WHERE sent_at IS NULL`,
    );
    return { depth: Number(rows[0]?.depth ?? 0), oldestAgeSeconds: Math.max(0, rows[0]?.oldest ?? 0) };
  }

  /** Deletes entries sent more than `olderThanMs` ago (they only serve rate limits and audits). */
  async pruneSent(olderThanMs: number): Promise<number> {
    const result = await this.#store.query(`DELETE FROM ${this.#table} WHERE sent_at < now() - $1 * interval '1 millisecond'`, [olderThanMs]);
    return result.rowCount ?? 0;
  }
}
