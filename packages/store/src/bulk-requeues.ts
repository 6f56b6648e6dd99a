import type { DeadLetterFilter } from './dead-letters.ts';
import type { Queryable, Store } from './store.ts';

export type BulkRequeueState = 'running' | 'finished' | 'failed' | 'stopped';

/** A bulk requeue as it goes: the dashboard polls it for its progress bar; any health-api replica answers. */
export interface BulkRequeue {
  readonly id: string;
  readonly by: string;
  readonly note: string | null;
  /** The dead letters it takes (pending ones only), bounded to those dead before it started. */
  readonly filter: DeadLetterFilter;
  readonly perSecond: number;
  /** How many it takes at most: the count confirmed, or fewer if fewer matched when it started. */
  readonly total: number;
  readonly done: number;
  readonly state: BulkRequeueState;
  /** Why it failed (`failed`): the store's refusal, e.g. a dead letter that is not a task message. */
  readonly error: string | null;
  /** ISO 8601. */
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** How many times a health-api took it over from one that stopped or was lost mid-way. */
  readonly resumed: number;
}

/** What a new bulk requeue is given. */
export interface BulkRequeueInput {
  readonly id: string;
  readonly by: string;
  readonly note?: string;
  readonly filter: DeadLetterFilter;
  readonly perSecond: number;
  readonly total: number;
}

interface Row {
  id: string; by: string; note: string | null; filter: Record<string, unknown>; per_second: number; total: number; done: number;
  state: BulkRequeueState; error: string | null; started_at: Date; finished_at: Date | null; resumed: number;
}

/**
 * The `bulk_requeues` table. A running job is held by one health-api at a time through a lease it renews; a job
 * whose holder stopped (it let go) or was lost (its lease lapsed) is taken over by the next health-api that looks.
 */
export class BulkRequeues {
  readonly #store: Store;
  readonly #table: string;

  constructor(store: Store) {
    this.#store = store;
    this.#table = store.table('bulk_requeues');
  }

  /** Records a new job, held by `owner` for `leaseMs`. */
  async create(input: BulkRequeueInput, owner: string, leaseMs: number): Promise<BulkRequeue> {
    const state = input.total === 0 ? 'finished' : 'running';
    const { rows } = await this.#store.query<Row>(
      `INSERT INTO ${this.#table} (id, by, note, filter, per_second, total, state, finished_at, owner, lease_until)
        VALUES ($1, $2, $3, $4, $5, $6, $7::text, CASE WHEN $7::text = 'finished' THEN now() END, $8, now() + $9 * interval '1 millisecond') RETURNING *`,
      [input.id, input.by, input.note ?? null, JSON.stringify(writeFilter(input.filter)), input.perSecond, input.total, state, owner, leaseMs],
    );
    return view(rows[0] as Row);
  }

  async get(id: string): Promise<BulkRequeue | undefined> {
    if (!UUID.test(id)) return undefined;
    const { rows } = await this.#store.query<Row>(`SELECT * FROM ${this.#table} WHERE id = $1`, [id]);
    return rows[0] === undefined ? undefined : view(rows[0]);
  }

  /** The latest jobs, newest first: those running first. */
  async list(limit = 20): Promise<BulkRequeue[]> {
    const { rows } = await this.#store.query<Row>(`SELECT * FROM ${this.#table} ORDER BY state = 'running' DESC, started_at DESC LIMIT $1`, [limit]);
    return rows.map(view);
  }

  /** Counts one replay, in the replay's own transaction (`RequeueOptions.onReplayed`). */
  async countReplay(client: Queryable, id: string): Promise<void> {
    await client.query(`UPDATE ${this.#table} SET done = done + 1 WHERE id = $1`, [id]);
  }

  /** Takes over the running jobs nobody holds (let go at a shutdown, or a lease that lapsed): they are resumed by `owner`. */
  async takeOver(owner: string, leaseMs: number): Promise<BulkRequeue[]> {
    const { rows } = await this.#store.query<Row>(
      `UPDATE ${this.#table} SET owner = $1, lease_until = now() + $2 * interval '1 millisecond', resumed = resumed + 1
        WHERE id IN (SELECT id FROM ${this.#table} WHERE state = 'running' AND (lease_until IS NULL OR lease_until < now()) FOR UPDATE SKIP LOCKED)
        RETURNING *`,
      [owner, leaseMs],
    );
    return rows.map(view);
  }

  /**
   * Renews `owner`'s lease of its running jobs; returns the ids it still holds and that still run (a job stopped
   * from another replica, or taken over after a lapse, is missing: its holder stops it).
   */
  async renew(owner: string, ids: readonly string[], leaseMs: number): Promise<Set<string>> {
    if (ids.length === 0) return new Set();
    const { rows } = await this.#store.query<{ id: string }>(
      `UPDATE ${this.#table} SET lease_until = now() + $3 * interval '1 millisecond' WHERE id = ANY($2::uuid[]) AND owner = $1 AND state = 'running' RETURNING id`,
      [owner, ids, leaseMs],
    );
    return new Set(rows.map((row) => row.id));
  }

  /** Ends a job: `finished`, `failed` (with why) or `stopped` (by a person). Only a running job ends. */
  async end(id: string, state: Exclude<BulkRequeueState, 'running'>, error: string | null = null): Promise<BulkRequeue | undefined> {
    const { rows } = await this.#store.query<Row>(
      `UPDATE ${this.#table} SET state = $2, error = $3, finished_at = now(), owner = NULL, lease_until = NULL WHERE id = $1 AND state = 'running' RETURNING *`,
      [id, state, error],
    );
    return rows[0] === undefined ? this.get(id) : view(rows[0]);
  }

  /** Lets go of a running job without ending it (a shutdown): the next health-api to look resumes it at once. */
  async release(id: string, owner: string): Promise<void> {
    await this.#store.query(`UPDATE ${this.#table} SET owner = NULL, lease_until = NULL WHERE id = $1 AND owner = $2 AND state = 'running'`, [id, owner]);
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function writeFilter(filter: DeadLetterFilter): Record<string, unknown> {
  return Object.fromEntries(Object.entries(filter).map(([key, value]) => [key, value instanceof Date ? value.toISOString() : value]));
}

function readFilter(raw: Record<string, unknown>): DeadLetterFilter {
  const { since, until, ...rest } = raw;
  return {
    ...(rest as DeadLetterFilter),
    ...(typeof since === 'string' ? { since: new Date(since) } : {}),
    ...(typeof until === 'string' ? { until: new Date(until) } : {}),
  };
}

function view(row: Row): BulkRequeue {
  return {
    id: row.id, by: row.by, note: row.note, filter: readFilter(row.filter), perSecond: Number(row.per_second), total: row.total, done: row.done,
    state: row.state, error: row.error, startedAt: row.started_at.toISOString(), finishedAt: row.finished_at?.toISOString() ?? null, resumed: row.resumed,
  };
}
