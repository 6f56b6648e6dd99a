import type { FireState } from './schedule-fires.ts';
import type { Store } from './store.ts';
import type { TaskRunState } from './task-run.ts';

/** One run of an entry, from the task history. */
export interface EntryRun {
  readonly id: string;
  readonly state: TaskRunState;
  /** ISO 8601: the fire time it stands for (its origin's `scheduledFor`, else when it was sent). */
  readonly fireTime: string;
  /** ISO 8601. */
  readonly sentAt: string;
  readonly finishedAt: string | null;
  readonly errorClass: string | null;
  readonly errorMessage: string | null;
}

/** An entry's newest success: the fire time it stands for and when it finished (ISO 8601). */
export interface EntrySuccess {
  readonly fireTime: string;
  readonly finishedAt: string;
}

/** Fires of an entry not sent, by state, and the highest `seq` among them. */
export interface NotSentFires {
  readonly counts: Readonly<Partial<Record<FireState, number>>>;
  /** The highest `schedule_fires.seq` counted (a string: bigint). */
  readonly seq: string;
  /** ISO 8601: the first and last fire times counted. */
  readonly from: string;
  readonly through: string;
}

/** Successes read per entry to find the one with the latest fire time (a backfill may succeed after a newer run). */
const SUCCESSES_READ = 20;

/**
 * What the task history and the fires say about schedule entries, for the alerter's judge: a few queries for
 * every entry at once (runs are found by their origin's entry, the `task_runs_beat_sent_idx` index).
 */
export class ScheduleFacts {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** The newest runs of each entry sent at or after its `since` (every run when `null`), newest first, at most `limit` each. */
  async recentRuns(entries: readonly { readonly entry: string; readonly since: string | null }[], limit: number): Promise<Map<string, EntryRun[]>> {
    const out = new Map<string, EntryRun[]>(entries.map(({ entry }) => [entry, []]));
    if (entries.length === 0) return out;
    const { rows } = await this.#store.query<{
      entry: string; id: string; state: TaskRunState; fire_time: Date; sent_at: Date; finished_at: Date | null; error_class: string | null; error_message: string | null;
    }>(
      `SELECT w.entry, r.* FROM unnest($1::text[], $2::timestamptz[]) AS w(entry, since)
        CROSS JOIN LATERAL (
          SELECT id, state, ${this.#store.table('fire_time_of')}(origin, sent_at) AS fire_time, sent_at, finished_at, error_class, error_message
            FROM ${this.#store.table('task_runs')}
           WHERE origin->>'beat' = w.entry AND (w.since IS NULL OR sent_at >= w.since)
           ORDER BY sent_at DESC, id DESC LIMIT $3) r
        ORDER BY w.entry, r.sent_at DESC, r.id DESC`,
      [entries.map((e) => e.entry), entries.map((e) => e.since), limit],
    );
    for (const row of rows) {
      out.get(row.entry)?.push({
        id: row.id, state: row.state, fireTime: row.fire_time.toISOString(), sentAt: row.sent_at.toISOString(),
        finishedAt: row.finished_at?.toISOString() ?? null, errorClass: row.error_class, errorMessage: row.error_message,
      });
    }
    return out;
  }

  /** Each entry's success with the latest fire time among its newest successes; entries that never succeeded are absent. */
  async lastSuccesses(entries: readonly string[]): Promise<Map<string, EntrySuccess>> {
    const out = new Map<string, EntrySuccess>();
    if (entries.length === 0) return out;
    const { rows } = await this.#store.query<{ entry: string; fire_time: Date; finished_at: Date }>(
      `SELECT DISTINCT ON (w.entry) w.entry, s.fire_time, s.finished_at FROM unnest($1::text[]) AS w(entry)
        CROSS JOIN LATERAL (
          SELECT ${this.#store.table('fire_time_of')}(origin, sent_at) AS fire_time, coalesce(finished_at, updated_at) AS finished_at
            FROM ${this.#store.table('task_runs')}
           WHERE origin->>'beat' = w.entry AND state = 'succeeded'
           ORDER BY sent_at DESC, id DESC LIMIT $2) s
        ORDER BY w.entry, s.fire_time DESC, s.finished_at DESC`,
      [entries, SUCCESSES_READ],
    );
    for (const row of rows) out.set(row.entry, { fireTime: row.fire_time.toISOString(), finishedAt: row.finished_at.toISOString() });
    return out;
  }

  /** Fires of each entry not sent whose fire times reach past its `since` (all when `null`). Entries without any are absent. */
  async notSentSince(entries: readonly { readonly entry: string; readonly since: string | null }[]): Promise<Map<string, NotSentFires>> {
    return this.#notSent(entries.map((e) => e.entry), entries.map((e) => e.since), `(w.bound IS NULL OR coalesce(f.through_time, f.fire_time) > w.bound::timestamptz)`);
  }

  /** Fires of each entry not sent that were recorded after its `seq` (the missed runs nobody was told of yet). */
  async notSentAfter(entries: readonly { readonly entry: string; readonly seq: string }[]): Promise<Map<string, NotSentFires>> {
    return this.#notSent(entries.map((e) => e.entry), entries.map((e) => e.seq), 'f.seq > w.bound::bigint');
  }

  async #notSent(names: readonly string[], bounds: readonly (string | null)[], condition: string): Promise<Map<string, NotSentFires>> {
    const out = new Map<string, NotSentFires>();
    if (names.length === 0) return out;
    const { rows } = await this.#store.query<{ entry: string; state: FireState; count: string; seq: string; from: Date; through: Date }>(
      `SELECT f.entry, f.state, sum(f.count) AS count, max(f.seq) AS seq, min(f.fire_time) AS from, max(coalesce(f.through_time, f.fire_time)) AS through
         FROM unnest($1::text[], $2::text[]) AS w(entry, bound)
         JOIN ${this.#store.table('schedule_fires')} f ON f.entry = w.entry AND f.state <> 'sent' AND ${condition}
        GROUP BY f.entry, f.state`,
      [names, bounds],
    );
    for (const row of rows) {
      const seen = out.get(row.entry);
      const from = row.from.toISOString();
      const through = row.through.toISOString();
      out.set(row.entry, {
        counts: { ...seen?.counts, [row.state]: Number(row.count) },
        seq: seen === undefined || BigInt(row.seq) > BigInt(seen.seq) ? String(row.seq) : seen.seq,
        from: seen === undefined || from < seen.from ? from : seen.from,
        through: seen === undefined || through > seen.through ? through : seen.through,
      });
    }
    return out;
  }

  /** The highest `schedule_fires.seq` so far ('0' when there is none): where a newly watched entry starts telling missed runs. */
  async lastFireSeq(): Promise<string> {
    const { rows } = await this.#store.query<{ seq: string | null }>(`SELECT max(seq) AS seq FROM ${this.#store.table('schedule_fires')}`);
    return String(rows[0]?.seq ?? '0');
  }
}
