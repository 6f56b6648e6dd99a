import type pg from 'pg';
import type { Queryable, Store } from './store.ts';

/** How the dead letter being stored is paged: its group, the window, the channels and the page itself. */
export interface AlertRouting {
  /** One group per (task, error class). */
  readonly groupKey: string;
  readonly task: string;
  readonly errorClass: string;
  /** How long a group collects more of the same before a summary is sent. */
  readonly windowMs: number;
  /** One outbox entry per channel. */
  readonly channels: readonly string[];
  /** The page for the first dead letter of a group, given its stored id. Plain JSON, already redacted. */
  page(deadLetterId: string): Record<string, unknown>;
  /** A short line kept with the group for its summary (e.g. the error message, redacted). */
  readonly message?: string;
  /**
   * The dead letter's page is someone else's to write (the alerter's schedule watch pages a failure streak of
   * an entry once): it never opens a group. When its group is open and was opened before `diedAt`, the dead
   * letter is counted in it (and summarized with it); otherwise it is stored without an alert (`held`).
   */
  readonly hold?: { readonly diedAt: string };
}

/**
 * What happened to a stored dead letter's alert: it opened a group and paged, it was counted in an open group,
 * or it was held for the page that someone else writes (`AlertRouting.hold`).
 */
export type AlertOutcome = 'paged' | 'grouped' | 'held';

/** An alert group whose window closed, as handed to `summary`. */
export interface ClosedAlertWindow {
  readonly groupKey: string;
  readonly task: string;
  readonly errorClass: string;
  /** Dead letters counted since the last page or summary. */
  readonly count: number;
  /** Dead letters since the group opened. */
  readonly total: number;
  readonly firstDeadLetterId: string;
  readonly lastDeadLetterId: string;
  readonly lastMessage: string | null;
  /** ISO 8601. */
  readonly openedAt: string;
  readonly windowStartedAt: string;
}

/**
 * Joins a new dead letter to its alert group, inside the transaction that stores it: the first of a group
 * opens it and writes a page per channel to the outbox; later ones within the group's life are counted.
 */
export async function joinAlertGroup(client: pg.PoolClient, store: Store, deadLetterId: string, routing: AlertRouting): Promise<AlertOutcome> {
  if (routing.hold !== undefined) {
    const { rowCount } = await client.query(
      `UPDATE ${store.table('alert_groups')}
          SET unsent = unsent + 1, total = total + 1, last_dead_letter_id = $2, last_message = $3
        WHERE group_key = $1 AND opened_at < $4`,
      [routing.groupKey, deadLetterId, routing.message ?? null, routing.hold.diedAt],
    );
    return rowCount === 1 ? 'grouped' : 'held';
  }
  const { rows } = await client.query<{ opened: boolean }>(
    `INSERT INTO ${store.table('alert_groups')} AS g
       (group_key, task, error_class, window_ends_at, first_dead_letter_id, last_dead_letter_id, last_message, unsent, total)
     VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond', $5, $5, $6, 0, 1)
     ON CONFLICT (group_key) DO UPDATE
       SET unsent = g.unsent + 1, total = g.total + 1, last_dead_letter_id = EXCLUDED.last_dead_letter_id,
           last_message = EXCLUDED.last_message
     RETURNING (xmax = 0) AS opened`,
    [routing.groupKey, routing.task, routing.errorClass, routing.windowMs, deadLetterId, routing.message ?? null],
  );
  if (!rows[0]?.opened) return 'grouped';
  await enqueue(client, store, routing.channels, 'page', routing.groupKey, routing.page(deadLetterId));
  return 'paged';
}

export interface CloseWindowsOptions {
  readonly windowMs: number;
  readonly channels: readonly string[];
  /** The summary of a window that counted more dead letters. Plain JSON, already redacted. */
  summary(window: ClosedAlertWindow): Record<string, unknown>;
  /** Groups handled per call. Default: `100`. */
  readonly limit?: number;
}

/**
 * Closes every window that has ended: a group that counted more dead letters sends one summary per channel
 * and starts another window; a group that stayed quiet ends. Safe with several alerters (rows are locked,
 * skipped by the others). Resolves with how many summaries were written and groups ended.
 */
export async function closeAlertWindows(store: Store, options: CloseWindowsOptions): Promise<{ summarized: number; ended: number }> {
  return store.transaction(async (client) => {
    const { rows } = await client.query<{
      group_key: string; task: string; error_class: string; unsent: number; total: number; first_dead_letter_id: string;
      last_dead_letter_id: string; last_message: string | null; opened_at: Date; window_started_at: Date;
    }>(`SELECT * FROM ${store.table('alert_groups')} WHERE window_ends_at <= now() ORDER BY window_ends_at LIMIT $1 FOR UPDATE SKIP LOCKED`, [options.limit ?? 100]);
    let summarized = 0;
    let ended = 0;
    for (const row of rows) {
      if (row.unsent === 0) {
        await client.query(`DELETE FROM ${store.table('alert_groups')} WHERE group_key = $1`, [row.group_key]);
        ended += 1;
        continue;
      }
      const summary = options.summary({
        groupKey: row.group_key, task: row.task, errorClass: row.error_class, count: row.unsent, total: row.total,
        firstDeadLetterId: String(row.first_dead_letter_id), lastDeadLetterId: String(row.last_dead_letter_id),
        lastMessage: row.last_message, openedAt: row.opened_at.toISOString(), windowStartedAt: row.window_started_at.toISOString(),
      });
      await enqueue(client, store, options.channels, 'summary', row.group_key, summary);
      await client.query(
        `UPDATE ${store.table('alert_groups')} SET unsent = 0, window_started_at = now(), window_ends_at = now() + $2 * interval '1 millisecond' WHERE group_key = $1`,
        [row.group_key, options.windowMs],
      );
      summarized += 1;
    }
    return { summarized, ended };
  });
}

/** Writes `alert` to the outbox once per channel, inside the caller's transaction. */
export async function enqueue(client: Queryable, store: Store, channels: readonly string[], kind: 'page' | 'summary' | 'schedule', groupKey: string, alert: Record<string, unknown>): Promise<void> {
  for (const channel of channels) {
    await client.query(`INSERT INTO ${store.table('alert_outbox')} (channel, kind, group_key, alert) VALUES ($1, $2, $3, $4)`, [channel, kind, groupKey, JSON.stringify(alert)]);
  }
}
