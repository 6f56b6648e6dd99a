import { BadParameterError } from '@nightshift/core';
import { toJsonb } from './dead-letter.ts';
import { pageLimit } from './list-filter.ts';
import type { Store } from './store.ts';
import type { TaskRunState } from './task-run.ts';

/** The largest page of an entry's fires one query returns. */
export const MAX_SCHEDULE_FIRE_PAGE = 500;

/** Who sent a fire time: the schedule itself (beat), a person's run now, or a backfill. */
export type FireOrigin = 'schedule' | 'manual' | 'backfill';

export const FIRE_ORIGINS: readonly FireOrigin[] = Object.freeze(['schedule', 'manual', 'backfill']);

/**
 * A fire time's fate: `sent`, or why it was not: the entry was `paused`, its last run had not finished
 * (`overlap`), its misfire policy dropped it (`misfire`), its grace ran out before the broker took it
 * (`expired`), beat's state in Redis was lost (`state_lost`), or beat could not send it for another reason
 * (`unsent`: its lease ran out, it stopped, the message could not be routed; `detail.reason` says which).
 */
export type FireState = 'sent' | 'paused' | 'overlap' | 'misfire' | 'expired' | 'state_lost' | 'unsent';

export const FIRE_STATES: readonly FireState[] = Object.freeze(['sent', 'paused', 'overlap', 'misfire', 'expired', 'state_lost', 'unsent']);

/** One fire time's fate, as the history recorder writes it. */
export interface FireInput {
  readonly entry: string;
  /** ISO 8601: the fire time (for a row of several, the first). */
  readonly fireTime: string;
  readonly origin: FireOrigin;
  readonly state: FireState;
  /** The message id of the run, when sent. */
  readonly runId?: string;
  /** ISO 8601: when the broker took it. */
  readonly sentAt?: string;
  /** From the fire time to the send. */
  readonly latenessMs?: number;
  /** The person behind a run now or a backfill. */
  readonly by?: string;
  /** How many fire times this row stands for (a row not sent may stand for several). Default: `1`. */
  readonly count?: number;
  /** ISO 8601: the last fire time of a row of several. */
  readonly throughTime?: string;
  /** Anything else the event said (beat's own reason, the replica, the attempts). */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** How the run of a sent fire time ended, or where it stands: from the task history. */
export interface FireRun {
  readonly state: TaskRunState;
  readonly attempt: number;
  /** ISO 8601. */
  readonly finishedAt: string | null;
  readonly runtimeMs: number | null;
  readonly errorClass: string | null;
  readonly errorMessage: string | null;
}

/** One fire time's fate, with its run's outcome once the task history knows it. */
export interface ScheduleFire {
  readonly entry: string;
  /** ISO 8601. */
  readonly fireTime: string;
  readonly origin: FireOrigin;
  readonly state: FireState;
  readonly runId: string | null;
  /** ISO 8601. */
  readonly sentAt: string | null;
  readonly latenessMs: number | null;
  readonly by: string | null;
  readonly count: number;
  /** ISO 8601. */
  readonly throughTime: string | null;
  readonly detail: Readonly<Record<string, unknown>>;
  /** ISO 8601: when the history recorded it; `null` for a run only the task history knows (its fire's event was lost). */
  readonly recordedAt: string | null;
  /** `null` until the task history has the run (and for fire times not sent). */
  readonly run: FireRun | null;
}

/** The newest run of an entry, whoever sent it. */
export interface LastRun {
  readonly id: string;
  readonly state: TaskRunState;
  /** ISO 8601. */
  readonly sentAt: string;
  /** ISO 8601; `null` while it has not finished. */
  readonly finishedAt: string | null;
}

export interface FireQuery {
  /** Fires per page, 1 to `MAX_SCHEDULE_FIRE_PAGE`. Default: `20`. */
  readonly limit?: number;
  /** Only fire times before this one (ISO 8601), for the next page: the last `fireTime` of the previous one. Default: the newest. */
  readonly before?: string;
}

interface FireRow {
  entry: string; fire_time: Date; origin: FireOrigin; state: FireState; run_id: string | null; sent_at: Date | null; lateness_ms: number | null;
  by: string | null; count: number; through_time: Date | null; detail: Record<string, unknown>; recorded_at: Date | null;
  run_state: TaskRunState | null; run_attempt: number | null; run_finished_at: Date | null; run_runtime_ms: number | null;
  run_error_class: string | null; run_error_message: string | null;
}

const FIRE_COLUMNS = 'entry, fire_time, origin, state, run_id, sent_at, lateness_ms, by, count, through_time, detail';

/** Writes fires; one already recorded (same entry, fire time and state) is left as it is. Returns how many were added. */
export async function recordFires(store: Store, fires: readonly FireInput[]): Promise<number> {
  if (fires.length === 0) return 0;
  const rows = fires.map((fire) => ({
    entry: fire.entry, fire_time: fire.fireTime, origin: fire.origin, state: fire.state, run_id: fire.runId ?? null,
    sent_at: fire.sentAt ?? null, lateness_ms: fire.latenessMs ?? null, by: fire.by ?? null, count: fire.count ?? 1,
    through_time: fire.throughTime ?? null, detail: toJsonb(fire.detail ?? {}),
  }));
  // A stable order: two recorders writing overlapping batches take their locks in the same order (no deadlock).
  rows.sort((a, b) => a.entry.localeCompare(b.entry) || Date.parse(a.fire_time) - Date.parse(b.fire_time) || a.state.localeCompare(b.state));
  const { rowCount } = await store.query(
    `INSERT INTO ${store.table('schedule_fires')} (${FIRE_COLUMNS})
     SELECT ${FIRE_COLUMNS} FROM jsonb_to_recordset($1::jsonb) AS x(entry text, fire_time timestamptz, origin text, state text, run_id text,
       sent_at timestamptz, lateness_ms double precision, by text, count integer, through_time timestamptz, detail jsonb)
     ON CONFLICT ON CONSTRAINT schedule_fires_once DO NOTHING`,
    [JSON.stringify(rows)],
  );
  return rowCount ?? 0;
}

/**
 * An entry's fires, newest fire time first, each with its run's outcome from the task history. Runs the task
 * history has but the fires do not (their event was lost, or they were sent before fires were recorded) are
 * listed too, as sent.
 */
export async function listFires(store: Store, entry: string, query: FireQuery = {}): Promise<ScheduleFire[]> {
  const limit = pageLimit(query.limit, MAX_SCHEDULE_FIRE_PAGE, 20);
  const before = query.before === undefined ? null : new Date(query.before);
  if (before !== null && Number.isNaN(before.getTime())) throw new BadParameterError('before', `before ${JSON.stringify(query.before)} must be an ISO 8601 time`);
  const runs = store.table('task_runs');
  const fires = store.table('schedule_fires');
  const fireTimeOf = `${store.table('fire_time_of')}(r.origin, r.sent_at)`;
  const { rows } = await store.query<FireRow>(
    `WITH recorded AS (
       SELECT ${FIRE_COLUMNS}, recorded_at, seq FROM ${fires}
        WHERE entry = $1 AND ($2::timestamptz IS NULL OR fire_time < $2)
        ORDER BY fire_time DESC, seq DESC LIMIT $3
     ), unrecorded AS (
       SELECT r.origin->>'beat' AS entry, ${fireTimeOf} AS fire_time,
              CASE r.origin->>'type' WHEN 'manual' THEN 'manual' WHEN 'backfill' THEN 'backfill' ELSE 'schedule' END AS origin,
              'sent' AS state, r.id AS run_id, r.sent_at, NULL::double precision AS lateness_ms, r.origin->>'by' AS by, 1 AS count,
              NULL::timestamptz AS through_time, '{}'::jsonb AS detail, NULL::timestamptz AS recorded_at, 0::bigint AS seq
         FROM ${runs} r
        WHERE r.origin->>'beat' = $1 AND ($2::timestamptz IS NULL OR ${fireTimeOf} < $2)
          AND NOT EXISTS (SELECT 1 FROM ${fires} f WHERE f.run_id = r.id)
        ORDER BY r.sent_at DESC LIMIT $3
     )
     SELECT x.*, r.state AS run_state, r.attempt AS run_attempt, r.finished_at AS run_finished_at, r.runtime_ms AS run_runtime_ms,
            r.error_class AS run_error_class, r.error_message AS run_error_message
       FROM (SELECT * FROM recorded UNION ALL SELECT * FROM unrecorded) x
  LEFT JOIN ${runs} r ON r.id = x.run_id
      ORDER BY x.fire_time DESC, x.seq DESC LIMIT $3`,
    [entry, before, limit],
  );
  return rows.map(readFire);
}

/**
 * Which of `candidates` (fire times of `entry`, each with the run id it would be sent with) were sent already: a
 * sent fire is recorded, or the task history has the run. ISO 8601 fire times, as given.
 */
export async function sentAlready(store: Store, entry: string, candidates: readonly { readonly fireTime: string; readonly runId: string }[]): Promise<Set<string>> {
  if (candidates.length === 0) return new Set();
  const { rows } = await store.query<{ fire_time: Date | null; id: string | null }>(
    `SELECT fire_time, NULL AS id FROM ${store.table('schedule_fires')} WHERE entry = $1 AND state = 'sent' AND fire_time = ANY($2::timestamptz[])
     UNION ALL
     SELECT NULL, id FROM ${store.table('task_runs')} WHERE id = ANY($3::text[])`,
    [entry, candidates.map((c) => c.fireTime), candidates.map((c) => c.runId)],
  );
  const byRun = new Map(candidates.map((c) => [c.runId, c.fireTime]));
  const byTime = new Map(candidates.map((c) => [new Date(c.fireTime).getTime(), c.fireTime]));
  const sent = new Set<string>();
  for (const row of rows) {
    const fireTime = row.id !== null ? byRun.get(row.id) : row.fire_time !== null ? byTime.get(row.fire_time.getTime()) : undefined;
    if (fireTime !== undefined) sent.add(fireTime);
  }
  return sent;
}

/** The newest run the task history has of `entry` (sent by the schedule, run now or a backfill), or `undefined`. */
export async function lastRunOf(store: Store, entry: string): Promise<LastRun | undefined> {
  const { rows } = await store.query<{ id: string; state: TaskRunState; sent_at: Date; finished_at: Date | null }>(
    `SELECT id, state, sent_at, finished_at FROM ${store.table('task_runs')} WHERE origin->>'beat' = $1 ORDER BY sent_at DESC, id DESC LIMIT 1`, [entry]);
  const row = rows[0];
  return row === undefined ? undefined : { id: row.id, state: row.state, sentAt: row.sent_at.toISOString(), finishedAt: row.finished_at?.toISOString() ?? null };
}

/** Deletes fires recorded before `before`, `batchSize` rows per statement. Returns how many. */
export async function pruneFires(store: Store, before: Date, batchSize = 1_000): Promise<number> {
  const table = store.table('schedule_fires');
  let deleted = 0;
  for (;;) {
    const { rowCount } = await store.query(`DELETE FROM ${table} WHERE seq IN (SELECT seq FROM ${table} WHERE recorded_at < $1 LIMIT $2)`, [before, batchSize]);
    deleted += rowCount ?? 0;
    if ((rowCount ?? 0) < batchSize) return deleted;
  }
}

function readFire(row: FireRow): ScheduleFire {
  return {
    entry: row.entry, fireTime: row.fire_time.toISOString(), origin: row.origin, state: row.state, runId: row.run_id,
    sentAt: row.sent_at?.toISOString() ?? null, latenessMs: row.lateness_ms, by: row.by, count: row.count,
    throughTime: row.through_time?.toISOString() ?? null, detail: row.detail, recordedAt: row.recorded_at?.toISOString() ?? null,
    run: row.run_state === null ? null : {
      state: row.run_state, attempt: row.run_attempt ?? 1, finishedAt: row.run_finished_at?.toISOString() ?? null,
      runtimeMs: row.run_runtime_ms, errorClass: row.run_error_class, errorMessage: row.run_error_message,
    },
  };
}
