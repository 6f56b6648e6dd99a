import { enqueue } from './alert-groups.ts';
import type { Queryable, Store } from './store.ts';

export type ScheduleHealthStatus = 'healthy' | 'overdue' | 'failing' | 'paused' | 'ended';
export type EntrySourceName = 'code' | 'runtime';

/** How one entry is doing, as the alerter judged it. Times are ISO 8601. */
export interface ScheduleJudgement {
  readonly entry: string;
  readonly source: EntrySourceName;
  readonly status: ScheduleHealthStatus;
  /** The most likely cause, in words (overdue and failing only). */
  readonly cause: string | null;
  /** When a success is due by; `null` without a dead man's switch (off, paused, ended). */
  readonly dueBy: string | null;
  /** When the newest success finished, and the fire time it stood for. */
  readonly lastSuccessAt: string | null;
  readonly lastSuccessFire: string | null;
  readonly consecutiveFailures: number;
  /** When it was judged (set by the database on save). */
  readonly judgedAt?: string;
}

/** Where an entry's incident stands: nothing told (`quiet`), an incident paged and not over, or flapping. */
export type IncidentPhase = 'quiet' | 'incident' | 'flapping';

/** What the alerter has told about one entry. Times are ISO 8601. */
export interface IncidentState {
  readonly phase: IncidentPhase;
  /** The status that opened the incident (`overdue` or `failing`), when, and the last success known then. */
  readonly openedStatus: string | null;
  readonly openedAt: string | null;
  readonly openedLastSuccessAt: string | null;
  /** When the last incident ended (a flap is a new one soon after). */
  readonly recoveredAt: string | null;
  /** While flapping: since when, how many changes, the last one, and whether it is bad now. */
  readonly flapSince: string | null;
  readonly flapChanges: number;
  readonly flapLastChangeAt: string | null;
  readonly flapBad: boolean | null;
  /** `schedule_fires.seq` up to which missed runs were told, and when they were last paged. */
  readonly missedSeq: string;
  readonly missedPagedAt: string | null;
  /** The `pausedAt` of the pause whose missed runs were told. */
  readonly pauseToldFor: string | null;
}

/** An entry's incident row: its state, since when it is watched, its definition's digest, and its version. */
export interface IncidentRow extends IncidentState {
  readonly entry: string;
  readonly source: EntrySourceName;
  readonly watchedSince: string;
  readonly definitionHash: string;
  readonly version: number;
}

/** What a transition writes beside the new state, in the same transaction. */
export interface IncidentEffects {
  /** Alerts for the outbox (plain JSON, redacted), each written once per channel, under `groupKey`. */
  readonly alerts: readonly Record<string, unknown>[];
  readonly channels: readonly string[];
  readonly groupKey: string;
  /**
   * Opens (or reopens) the dead-letter alert group `groupKey`, so that the entry's later dead letters are counted
   * in it and summarized once per window rather than paged (see `AlertRouting.hold`).
   */
  readonly openGroup?: { readonly task: string; readonly errorClass: string; readonly windowMs: number; readonly message: string | null; readonly runIds: readonly string[] };
}

/** Which rows a call may remove: all of them, or only those of runtime entries (an alerter without the app). */
export type WatchScope = 'all' | 'runtime';

const INCIDENT_COLUMNS: Record<keyof IncidentState, string> = {
  phase: 'phase', openedStatus: 'opened_status', openedAt: 'opened_at', openedLastSuccessAt: 'opened_last_success_at', recoveredAt: 'recovered_at',
  flapSince: 'flap_since', flapChanges: 'flap_changes', flapLastChangeAt: 'flap_last_change_at', flapBad: 'flap_bad',
  missedSeq: 'missed_seq', missedPagedAt: 'missed_paged_at', pauseToldFor: 'pause_told_for',
};

/**
 * The schedule watch's records: each entry's judgement (what the health-api shows) and its incident (what was
 * paged, so that restarts neither page again nor forget). A transition names the version it was decided against,
 * so that of two alerters judging the same change, one writes it and its alerts, and the other nothing.
 */
export class ScheduleHealthRecords {
  readonly #store: Store;
  readonly #health: string;
  readonly #incidents: string;

  constructor(store: Store) {
    this.#store = store;
    this.#health = store.table('schedule_health');
    this.#incidents = store.table('schedule_incidents');
  }

  /** Every entry's last judgement, by name. */
  async judgements(): Promise<Map<string, ScheduleJudgement>> {
    const { rows } = await this.#store.query<{
      entry: string; source: EntrySourceName; status: ScheduleHealthStatus; cause: string | null; due_by: Date | null; last_success_at: Date | null;
      last_success_fire: Date | null; consecutive_failures: number; judged_at: Date;
    }>(`SELECT * FROM ${this.#health} ORDER BY entry`);
    return new Map(rows.map((row) => [row.entry, {
      entry: row.entry, source: row.source, status: row.status, cause: row.cause, dueBy: iso(row.due_by), lastSuccessAt: iso(row.last_success_at),
      lastSuccessFire: iso(row.last_success_fire), consecutiveFailures: row.consecutive_failures, judgedAt: row.judged_at.toISOString(),
    }]));
  }

  /** Saves these judgements (now) and removes those of entries not among them, within `scope`. */
  async saveJudgements(judgements: readonly ScheduleJudgement[], scope: WatchScope): Promise<void> {
    await this.#store.transaction(async (client) => {
      await client.query(
        `INSERT INTO ${this.#health} AS h (entry, source, status, cause, due_by, last_success_at, last_success_fire, consecutive_failures, judged_at)
         SELECT entry, source, status, cause, due_by, last_success_at, last_success_fire, consecutive_failures, now()
           FROM jsonb_to_recordset($1::jsonb) AS x(entry text, source text, status text, cause text, due_by timestamptz, last_success_at timestamptz,
                last_success_fire timestamptz, consecutive_failures integer)
         ON CONFLICT (entry) DO UPDATE SET source = EXCLUDED.source, status = EXCLUDED.status, cause = EXCLUDED.cause, due_by = EXCLUDED.due_by,
           last_success_at = EXCLUDED.last_success_at, last_success_fire = EXCLUDED.last_success_fire,
           consecutive_failures = EXCLUDED.consecutive_failures, judged_at = now()`,
        [JSON.stringify(judgements.map((j) => ({
          entry: j.entry, source: j.source, status: j.status, cause: j.cause, due_by: j.dueBy, last_success_at: j.lastSuccessAt,
          last_success_fire: j.lastSuccessFire, consecutive_failures: j.consecutiveFailures,
        })))],
      );
      await removeUnlisted(client, this.#health, judgements.map((j) => j.entry), scope);
    });
  }

  /**
   * Starts watching entries not watched yet (since now, telling missed runs from `lastFireSeq` on), watches an
   * entry whose definition changed afresh (since now), forgets entries not listed (within `scope`), and resolves
   * with every listed entry's incident row.
   */
  async watch(entries: readonly { readonly entry: string; readonly source: EntrySourceName; readonly definitionHash: string }[], lastFireSeq: string, scope: WatchScope): Promise<Map<string, IncidentRow>> {
    return this.#store.transaction(async (client) => {
      await client.query(
        `INSERT INTO ${this.#incidents} AS i (entry, source, definition_hash, missed_seq)
         SELECT entry, source, definition_hash, $2::bigint FROM jsonb_to_recordset($1::jsonb) AS x(entry text, source text, definition_hash text)
         ON CONFLICT (entry) DO UPDATE SET watched_since = now(), definition_hash = EXCLUDED.definition_hash, source = EXCLUDED.source,
           version = i.version + 1, updated_at = now()
          WHERE i.definition_hash IS DISTINCT FROM EXCLUDED.definition_hash OR i.source IS DISTINCT FROM EXCLUDED.source`,
        [JSON.stringify(entries.map((e) => ({ entry: e.entry, source: e.source, definition_hash: e.definitionHash }))), lastFireSeq],
      );
      await removeUnlisted(client, this.#incidents, entries.map((e) => e.entry), scope);
      const { rows } = await client.query<IncidentDbRow>(`SELECT * FROM ${this.#incidents} WHERE entry = ANY($1::text[])`, [entries.map((e) => e.entry)]);
      return new Map(rows.map((row) => [row.entry, readIncident(row)]));
    });
  }

  /**
   * Moves an entry's incident to `next` if it is still at `expectedVersion`, and writes `effects` with it. Resolves
   * with whether it did: `false` when another alerter changed it first (nothing is written).
   */
  async transition(entry: string, expectedVersion: number, next: IncidentState, effects: IncidentEffects): Promise<boolean> {
    return this.#store.transaction(async (client) => {
      const fields = Object.keys(INCIDENT_COLUMNS) as (keyof IncidentState)[];
      const { rowCount } = await client.query(
        `UPDATE ${this.#incidents} SET ${fields.map((field, i) => `${INCIDENT_COLUMNS[field]} = $${i + 3}`).join(', ')}, version = version + 1, updated_at = now()
          WHERE entry = $1 AND version = $2`,
        [entry, expectedVersion, ...fields.map((field) => next[field])],
      );
      if (rowCount !== 1) return false;
      const group = effects.openGroup;
      if (group !== undefined) {
        await client.query(
          `INSERT INTO ${this.#store.table('alert_groups')} AS g
             (group_key, task, error_class, window_ends_at, first_dead_letter_id, last_dead_letter_id, last_message, unsent, total)
           SELECT $1, $2, $3, now() + $4 * interval '1 millisecond', coalesce(min(id), 0), coalesce(max(id), 0), $5, 0, count(*)
             FROM ${this.#store.table('dead_letters')} WHERE message_id = ANY($6::text[])
           ON CONFLICT (group_key) DO UPDATE SET task = EXCLUDED.task, error_class = EXCLUDED.error_class, opened_at = now(), window_started_at = now(),
             window_ends_at = EXCLUDED.window_ends_at, first_dead_letter_id = EXCLUDED.first_dead_letter_id, last_dead_letter_id = EXCLUDED.last_dead_letter_id,
             last_message = EXCLUDED.last_message, unsent = 0, total = EXCLUDED.total`,
          [effects.groupKey, group.task, group.errorClass, group.windowMs, group.message, group.runIds],
        );
      }
      for (const alert of effects.alerts) await enqueue(client, this.#store, effects.channels, 'schedule', effects.groupKey, alert);
      return true;
    });
  }
}

interface IncidentDbRow {
  entry: string; source: EntrySourceName; watched_since: Date; definition_hash: string; phase: IncidentPhase; opened_status: string | null;
  opened_at: Date | null; opened_last_success_at: Date | null; recovered_at: Date | null; flap_since: Date | null; flap_changes: number;
  flap_last_change_at: Date | null; flap_bad: boolean | null; missed_seq: string; missed_paged_at: Date | null; pause_told_for: Date | null; version: number;
}

function readIncident(row: IncidentDbRow): IncidentRow {
  return {
    entry: row.entry, source: row.source, watchedSince: row.watched_since.toISOString(), definitionHash: row.definition_hash, version: row.version,
    phase: row.phase, openedStatus: row.opened_status, openedAt: iso(row.opened_at), openedLastSuccessAt: iso(row.opened_last_success_at),
    recoveredAt: iso(row.recovered_at), flapSince: iso(row.flap_since), flapChanges: row.flap_changes, flapLastChangeAt: iso(row.flap_last_change_at),
    flapBad: row.flap_bad, missedSeq: String(row.missed_seq), missedPagedAt: iso(row.missed_paged_at), pauseToldFor: iso(row.pause_told_for),
  };
}

async function removeUnlisted(client: Queryable, table: string, listed: readonly string[], scope: WatchScope): Promise<void> {
  await client.query(`DELETE FROM ${table} WHERE NOT (entry = ANY($1::text[])) AND ($2 = 'all' OR source = 'runtime')`, [listed, scope]);
}

function iso(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}
