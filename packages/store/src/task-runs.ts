import { foldEvents, rankOf, type TaskEventInput, type TaskRunRecord } from './task-run.ts';
import { toJsonb } from './dead-letter.ts';
import { listTaskRuns, readRun, type TaskRun, type TaskRunPage, type TaskRunQuery, type TaskRunRow } from './task-run-query.ts';
import type { Store } from './store.ts';

/** One entry of a run's timeline. */
export interface TaskEvent {
  readonly type: string;
  /** ISO 8601. */
  readonly at: string;
  readonly attempt: number;
  readonly worker: string | null;
  readonly detail: Record<string, unknown>;
}

/** A running attempt's latest `ctx.progress` report. */
export interface TaskRunProgress {
  /** From 0 to 1. */
  readonly fraction: number;
  readonly message: string | null;
  readonly attempt: number;
  /** ISO 8601: when the task reported it. */
  readonly at: string;
}

/** A run with its timeline, oldest event first, and its latest progress report (`null` if it reported none). */
export interface TaskRunDetail extends TaskRun {
  readonly timeline: readonly TaskEvent[];
  readonly progress: TaskRunProgress | null;
}

/** What one `record` call wrote. */
export interface RecordedBatch {
  /** Runs inserted or moved forward. */
  readonly runsChanged: number;
  /** Timeline entries added (duplicates are not). */
  readonly eventsAdded: number;
}

/** Counts of runs by state. */
export type StateCounts = Partial<Record<string, number>>;

/** One bucket of the history over time. */
export interface HistoryBucket {
  /** ISO 8601: the bucket's start. */
  readonly at: string;
  readonly succeeded: number;
  readonly failed: number;
  readonly retried: number;
  readonly p50Ms: number | null;
  readonly p95Ms: number | null;
  readonly p99Ms: number | null;
}

const COLUMNS: readonly (readonly [keyof TaskRunRecord, string, string])[] = [
  ['id', 'id', 'text'], ['name', 'name', 'text'], ['queue', 'queue', 'text'], ['state', 'state', 'text'], ['stateRank', 'state_rank', 'smallint'],
  ['attempt', 'attempt', 'integer'], ['maxAttempts', 'max_attempts', 'integer'], ['worker', 'worker', 'text'], ['args', 'args', 'jsonb'],
  ['kwargs', 'kwargs', 'jsonb'], ['sentAt', 'sent_at', 'timestamptz'], ['receivedAt', 'received_at', 'timestamptz'], ['startedAt', 'started_at', 'timestamptz'],
  ['finishedAt', 'finished_at', 'timestamptz'], ['runtimeMs', 'runtime_ms', 'double precision'], ['result', 'result', 'jsonb'],
  ['errorClass', 'error_class', 'text'], ['errorCode', 'error_code', 'text'], ['errorMessage', 'error_message', 'text'],
  ['errorStack', 'error_stack', 'text'], ['traceId', 'trace_id', 'text'], ['origin', 'origin', 'jsonb'],
];

// The SQL twin of `mergeRuns`: `n` = the batch's row is further along, `s` = the same attempt.
const N = '(EXCLUDED.attempt > r.attempt OR (EXCLUDED.attempt = r.attempt AND EXCLUDED.state_rank > r.state_rank))';
const S = '(EXCLUDED.attempt = r.attempt)';
const lead = (column: string) => `CASE WHEN ${N} THEN EXCLUDED.${column} ELSE r.${column} END`;
const leadOrSameAttempt = (column: string) =>
  `CASE WHEN ${N} THEN coalesce(EXCLUDED.${column}, CASE WHEN ${S} THEN r.${column} END) ELSE coalesce(r.${column}, CASE WHEN ${S} THEN EXCLUDED.${column} END) END`;
const leadError = (column: string) =>
  `CASE WHEN ${N} THEN (CASE WHEN EXCLUDED.error_class IS NOT NULL THEN EXCLUDED.${column} ELSE r.${column} END) ELSE (CASE WHEN r.error_class IS NOT NULL THEN r.${column} ELSE EXCLUDED.${column} END) END`;
const MERGE_SQL = [
  `state = ${lead('state')}`, `state_rank = ${lead('state_rank')}`, `attempt = ${lead('attempt')}`,
  `name = coalesce(nullif(r.name, ''), EXCLUDED.name)`,
  ...['queue', 'max_attempts', 'args', 'kwargs', 'trace_id', 'origin'].map((c) => `${c} = coalesce(r.${c}, EXCLUDED.${c})`),
  'sent_at = least(r.sent_at, EXCLUDED.sent_at)',
  `worker = CASE WHEN ${N} THEN coalesce(EXCLUDED.worker, r.worker) ELSE coalesce(r.worker, EXCLUDED.worker) END`,
  ...['received_at', 'started_at', 'runtime_ms'].map((c) => `${c} = ${leadOrSameAttempt(c)}`),
  `finished_at = ${lead('finished_at')}`, `result = ${lead('result')}`,
  ...['error_class', 'error_code', 'error_message', 'error_stack'].map((c) => `${c} = ${leadError(c)}`),
  'updated_at = now()',
].join(',\n  ');
// Skip rows the batch adds nothing to, so a duplicate event leaves the row (and its updated_at) untouched.
const CHANGES_SQL = [
  N, 'EXCLUDED.sent_at < r.sent_at',
  ...['queue', 'args', 'kwargs', 'trace_id', 'origin', 'worker', 'error_class'].map((c) => `(r.${c} IS NULL AND EXCLUDED.${c} IS NOT NULL)`),
  `(${S} AND ((r.received_at IS NULL AND EXCLUDED.received_at IS NOT NULL) OR (r.started_at IS NULL AND EXCLUDED.started_at IS NOT NULL) OR (r.runtime_ms IS NULL AND EXCLUDED.runtime_ms IS NOT NULL)))`,
].join(' OR ');

/**
 * The task history of one store: recording lifecycle events in batches (idempotent, never moving a run
 * backwards), listing and reading runs, and pruning old ones in small batches.
 */
export class TaskRuns {
  readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  /** Records a batch of events in one transaction: their runs (folded first, then merged with the stored rows) and their timeline. */
  async record(events: readonly TaskEventInput[]): Promise<RecordedBatch> {
    if (events.length === 0) return { runsChanged: 0, eventsAdded: 0 };
    const runs = [...foldEvents(events).values()].map((run) => Object.fromEntries(COLUMNS.map(([key, column]) => [column, toJsonb(run[key]) ?? null])));
    const progress = latestProgress(events);
    const timeline = events.filter((event) => event.state !== 'progress').map((event) => ({
      run_id: event.runId, type: event.state === 'failed' && event.final === true ? 'failed (final)' : event.state, at: event.at,
      attempt: event.attempt, worker: event.worker ?? null, detail: toJsonb(eventDetail(event)) ?? {}, rank: rankOf(event),
    }));
    const runs_ = this.store.table('task_runs');
    const events_ = this.store.table('task_events');
    return this.store.transaction(async (client) => {
      // Rows in a stable order: two recorders writing overlapping batches lock them in the same order (no deadlock).
      runs.sort((a, b) => String(a.id).localeCompare(String(b.id)));
      const changed = await client.query(
        `INSERT INTO ${runs_} AS r (${COLUMNS.map(([, c]) => c).join(', ')})
         SELECT ${COLUMNS.map(([, c]) => c).join(', ')} FROM jsonb_to_recordset($1::jsonb) AS x(${COLUMNS.map(([, c, t]) => `${c} ${t}`).join(', ')})
         ON CONFLICT (id) DO UPDATE SET
  ${MERGE_SQL}
         WHERE ${CHANGES_SQL}`,
        [JSON.stringify(runs)],
      );
      const added = await client.query(
        `INSERT INTO ${events_} (run_id, type, at, attempt, worker, detail)
         SELECT run_id, type, at, attempt, worker, detail FROM jsonb_to_recordset($1::jsonb)
             AS x(run_id text, type text, at timestamptz, attempt integer, worker text, detail jsonb, rank integer)
          ORDER BY run_id, at, rank
         ON CONFLICT ON CONSTRAINT task_events_once DO NOTHING`,
        [JSON.stringify(timeline)],
      );
      // After the runs: a report that arrived with its attempt's start finds the row. Only a report of the
      // attempt the run is on, and not older than the one kept, replaces it.
      if (progress.length > 0) {
        await client.query(
          `UPDATE ${runs_} AS r SET progress = jsonb_build_object('fraction', x.fraction, 'message', x.message, 'attempt', x.attempt, 'at', x.at)
             FROM jsonb_to_recordset($1::jsonb) AS x(run_id text, fraction double precision, message text, attempt integer, at timestamptz)
            WHERE r.id = x.run_id AND r.attempt = x.attempt
              AND (r.progress IS NULL OR (r.progress->>'attempt')::integer < x.attempt OR (r.progress->>'at')::timestamptz <= x.at)`,
          [JSON.stringify(progress)],
        );
      }
      return { runsChanged: changed.rowCount ?? 0, eventsAdded: added.rowCount ?? 0 };
    });
  }

  /** Runs newest first (by sent time, then id), filtered, a page at a time; see `TaskRunQuery`. */
  list(query: TaskRunQuery = {}): Promise<TaskRunPage> {
    return listTaskRuns(this.store, query);
  }

  /** A run with its timeline, or `undefined`. */
  async get(id: string): Promise<TaskRunDetail | undefined> {
    const { rows } = await this.store.query<TaskRunRow>(`SELECT * FROM ${this.store.table('task_runs')} WHERE id = $1`, [id]);
    if (rows[0] === undefined) return undefined;
    const events = await this.store.query<{ type: string; at: Date; attempt: number; worker: string | null; detail: Record<string, unknown> }>(
      `SELECT type, at, attempt, worker, detail FROM ${this.store.table('task_events')} WHERE run_id = $1 ORDER BY at, seq`, [id]);
    const progress = (rows[0] as TaskRunRow & { progress?: TaskRunProgress | null }).progress ?? null;
    return {
      ...readRun(rows[0]),
      timeline: events.rows.map((e) => ({ type: e.type, at: e.at.toISOString(), attempt: e.attempt, worker: e.worker, detail: e.detail })),
      progress: progress === null ? null : { ...progress, at: new Date(progress.at).toISOString() },
    };
  }

  /**
   * Deletes runs not updated since `before`, and timeline entries recorded before it, `batchSize` rows per
   * statement so that no statement holds its locks for long. Returns how many runs were deleted.
   */
  async prune(before: Date, batchSize = 1_000): Promise<number> {
    let deleted = 0;
    for (const [table, column, key] of [['task_runs', 'updated_at', 'id'], ['task_events', 'recorded_at', 'seq']] as const) {
      const name = this.store.table(table);
      for (;;) {
        const { rowCount } = await this.store.query(
          `DELETE FROM ${name} WHERE ${key} IN (SELECT ${key} FROM ${name} WHERE ${column} < $1 LIMIT $2)`, [before, batchSize]);
        if (table === 'task_runs') deleted += rowCount ?? 0;
        if ((rowCount ?? 0) < batchSize) break;
      }
    }
    return deleted;
  }

  /** Runs by state among those that changed since `since`. */
  async stateCounts(since: Date): Promise<StateCounts> {
    const { rows } = await this.store.query<{ state: string; count: string }>(
      `SELECT state, count(*) AS count FROM ${this.store.table('task_runs')} WHERE updated_at >= $1 GROUP BY state`, [since]);
    return Object.fromEntries(rows.map((row) => [row.state, Number(row.count)]));
  }

  /**
   * How many retries happened since `since`: the `retried` entries of the timelines (one per failed attempt
   * that was retried), not the runs that are waiting to retry now.
   */
  async retriesSince(since: Date): Promise<number> {
    // recorded_at (indexed) is never before the event's own time by more than the clocks' skew: a minute's margin.
    const { rows } = await this.store.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${this.store.table('task_events')} WHERE recorded_at >= $1::timestamptz - interval '1 minute' AND at >= $1 AND type = 'retried'`, [since]);
    return Number(rows[0]?.n ?? 0);
  }

  /** The runs started as retries of run `id` (from the dashboard's or the API's retry), oldest first. */
  async retriesOf(id: string): Promise<{ id: string; state: string; sentAt: string; by: string | null }[]> {
    const { rows } = await this.store.query<{ id: string; state: string; sent_at: Date; by: string | null }>(
      `SELECT id, state, sent_at, origin->>'by' AS by FROM ${this.store.table('task_runs')} WHERE origin->>'type' = 'retry' AND origin->>'retryOf' = $1 ORDER BY sent_at, id LIMIT 100`, [id]);
    return rows.map((row) => ({ id: row.id, state: row.state, sentAt: row.sent_at.toISOString(), by: row.by }));
  }

  /** Outcomes and runtime percentiles of runs that finished since `since`, in buckets of `bucketMs`. */
  async series(since: Date, bucketMs: number): Promise<HistoryBucket[]> {
    const seconds = Math.max(1, Math.round(bucketMs / 1000));
    const { rows } = await this.store.query<{ at: Date; succeeded: string; failed: string; p: (number | null)[] | null }>(
      `SELECT to_timestamp(floor(extract(epoch FROM coalesce(finished_at, updated_at)) / $2) * $2) AS at,
              count(*) FILTER (WHERE state = 'succeeded') AS succeeded,
              count(*) FILTER (WHERE state IN ('failed', 'dead-lettered')) AS failed,
              percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY runtime_ms) FILTER (WHERE state = 'succeeded') AS p
         FROM ${this.store.table('task_runs')}
        WHERE updated_at >= $1 AND state IN ('succeeded', 'failed', 'dead-lettered')
        GROUP BY 1 ORDER BY 1`, [since, seconds]);
    // Retries from the timelines, bucketed by when they happened: a run that retried and then succeeded counts in
    // both series (its row's state says only `succeeded`).
    const retries = await this.store.query<{ at: Date; n: string }>(
      `SELECT to_timestamp(floor(extract(epoch FROM at) / $2) * $2) AS at, count(*) AS n
         FROM ${this.store.table('task_events')}
        WHERE recorded_at >= $1::timestamptz - interval '1 minute' AND at >= $1 AND type = 'retried'
        GROUP BY 1`, [since, seconds]);
    const retried = new Map(retries.rows.map((row) => [row.at.getTime(), Number(row.n)]));
    const buckets = rows.map((row) => ({
      at: row.at.toISOString(), succeeded: Number(row.succeeded), failed: Number(row.failed), retried: retried.get(row.at.getTime()) ?? 0,
      p50Ms: row.p?.[0] ?? null, p95Ms: row.p?.[1] ?? null, p99Ms: row.p?.[2] ?? null,
    }));
    const seen = new Set(rows.map((row) => row.at.getTime()));
    for (const [at, n] of retried) {
      if (!seen.has(at)) buckets.push({ at: new Date(at).toISOString(), succeeded: 0, failed: 0, retried: n, p50Ms: null, p95Ms: null, p99Ms: null });
    }
    return buckets.sort((a, b) => a.at.localeCompare(b.at));
  }

  /** How many runs the table holds: exact while small, the planner's estimate beyond 100,000 (a count would scan). */
  async count(): Promise<number> {
    const estimate = await this.store.query<{ n: number }>('SELECT reltuples::float8 AS n FROM pg_class WHERE oid = to_regclass($1)', [this.store.table('task_runs')]);
    const n = estimate.rows[0]?.n ?? -1;
    if (n > 100_000) return Math.round(n);
    const exact = await this.store.query<{ n: string }>(`SELECT count(*) AS n FROM ${this.store.table('task_runs')}`);
    return Number(exact.rows[0]?.n ?? 0);
  }
}

function eventDetail(event: TaskEventInput): Record<string, unknown> {
  return {
    ...(event.detail ?? {}),
    ...(event.runtimeMs !== undefined ? { runtimeMs: event.runtimeMs } : {}),
    ...(event.error !== undefined ? { error: event.error } : {}),
    ...(event.state === 'succeeded' && event.result !== undefined ? { result: event.result } : {}),
  };
}

/** The newest progress report of each run in a batch. */
function latestProgress(events: readonly TaskEventInput[]): { run_id: string; fraction: number; message: string | null; attempt: number; at: string }[] {
  const latest = new Map<string, TaskEventInput>();
  for (const event of events) {
    if (event.state !== 'progress') continue;
    const kept = latest.get(event.runId);
    if (kept === undefined || event.attempt > kept.attempt || (event.attempt === kept.attempt && event.at >= kept.at)) latest.set(event.runId, event);
  }
  return [...latest.values()].map((event) => ({
    run_id: event.runId, attempt: event.attempt, at: event.at,
    fraction: typeof event.detail?.fraction === 'number' ? event.detail.fraction : 0,
    message: typeof event.detail?.message === 'string' ? event.detail.message : null,
  }));
}
