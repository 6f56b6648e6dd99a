import { TASK_RUN_STATES, type TaskRunState } from './task-run.ts';
import { BadParameterError } from '@nightshift/core';
import { ListFilter, onePage, pageLimit, sortCursor } from './list-filter.ts';
import type { Store } from './store.ts';

/** The largest page of task runs one query returns. */
export const MAX_TASK_RUN_PAGE = 500;

/**
 * The columns a listing can be ordered by, and their SQL. A column that may be empty is ordered by a stand-in
 * value ('' or -1 or -infinity), so that a cursor can always be compared with the next page's rows. Names sort
 * whatever their case, as a person reads them.
 */
export const TASK_RUN_SORTS = {
  sent: 'sent_at', id: 'id', name: 'lower(name)', state: 'state', attempt: 'attempt', queue: "lower(coalesce(queue, ''))", worker: "lower(coalesce(worker, ''))",
  runtime: 'coalesce(runtime_ms, -1)', started: "coalesce(started_at, '-infinity')", finished: "coalesce(finished_at, '-infinity')",
  error: "coalesce(error_class, '')",
} as const;
export type TaskRunSort = keyof typeof TASK_RUN_SORTS;
export const TASK_RUN_SORT_NAMES = Object.freeze(Object.keys(TASK_RUN_SORTS)) as readonly TaskRunSort[];

/** A run as the API shows it: times as ISO 8601. */
export interface TaskRun {
  readonly id: string;
  readonly name: string;
  readonly queue: string | null;
  readonly state: TaskRunState;
  readonly attempt: number;
  readonly maxAttempts: number | null;
  readonly worker: string | null;
  readonly args: unknown[] | null;
  readonly kwargs: Record<string, unknown> | null;
  readonly sentAt: string;
  readonly receivedAt: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly runtimeMs: number | null;
  readonly result: unknown;
  readonly errorClass: string | null;
  readonly errorCode: string | null;
  readonly errorMessage: string | null;
  readonly errorStack: string | null;
  readonly traceId: string | null;
  readonly origin: Record<string, unknown> | null;
  readonly updatedAt: string;
}

/** Filters and page of `TaskRuns.list`. Every filter is optional; together they all apply. */
export interface TaskRunQuery {
  /** Only runs in these states. Default: any. */
  readonly state?: TaskRunState | readonly TaskRunState[];
  /** Only this task name. Default: any. */
  readonly name?: string;
  /** Only runs last handled by this worker. Default: any. */
  readonly worker?: string;
  /** Only this logical queue. Default: any. */
  readonly queue?: string;
  /** Only runs sent at or after this time. Default: any. */
  readonly since?: Date;
  /** Only runs sent before this time. Default: any. */
  readonly until?: Date;
  /** Only runs whose id starts with this. Default: any. */
  readonly idPrefix?: string;
  /** Only task names starting with this (case-insensitive). Default: any. */
  readonly namePrefix?: string;
  /** Only task names containing this (case-insensitive). Default: any. */
  readonly nameContains?: string;
  /** The column to order by, then id. Default: `sent` (the time sent). */
  readonly sort?: TaskRunSort;
  /** Default: `desc` (newest, largest, last in the alphabet first). */
  readonly order?: 'asc' | 'desc';
  /** Page size, 1 to `MAX_TASK_RUN_PAGE`. Default: `50`. */
  readonly limit?: number;
  /** The `next` cursor of the previous page. Default: the first page (newest first). */
  readonly after?: string;
}

export interface TaskRunPage {
  readonly items: readonly TaskRun[];
  /** Pass as `after` for the next page; absent on the last page. */
  readonly next?: string;
}

/** A `task_runs` row as pg returns it. */
export interface TaskRunRow {
  id: string; name: string; queue: string | null; state: TaskRunState; attempt: number; max_attempts: number | null; worker: string | null;
  args: unknown[] | null; kwargs: Record<string, unknown> | null; sent_at: Date; received_at: Date | null; started_at: Date | null;
  finished_at: Date | null; runtime_ms: number | null; result: unknown; error_class: string | null; error_code: string | null;
  error_message: string | null; error_stack: string | null; trace_id: string | null; origin: Record<string, unknown> | null; updated_at: Date;
}

const iso = (time: Date | null): string | null => (time === null ? null : time.toISOString());

export function readRun(row: TaskRunRow): TaskRun {
  return {
    id: row.id, name: row.name, queue: row.queue, state: row.state, attempt: row.attempt, maxAttempts: row.max_attempts, worker: row.worker,
    args: row.args, kwargs: row.kwargs, sentAt: row.sent_at.toISOString(), receivedAt: iso(row.received_at), startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at), runtimeMs: row.runtime_ms, result: row.result ?? null, errorClass: row.error_class, errorCode: row.error_code,
    errorMessage: row.error_message, errorStack: row.error_stack, traceId: row.trace_id, origin: row.origin, updatedAt: row.updated_at.toISOString(),
  };
}

// A listing leaves out the large columns (stack, result); the detail has them.
const LIST_COLUMNS = 'id, name, queue, state, attempt, max_attempts, worker, args, kwargs, sent_at, received_at, started_at, finished_at, runtime_ms, '
  + 'NULL::jsonb AS result, error_class, error_code, error_message, NULL::text AS error_stack, trace_id, origin, updated_at';

/** Keyset pagination over (sent_at, id), newest first: a page stays right while rows arrive. */
export async function listTaskRuns(store: Store, query: TaskRunQuery): Promise<TaskRunPage> {
  const limit = pageLimit(query.limit, MAX_TASK_RUN_PAGE);
  const filter = new ListFilter();
  filter.addOneOf('state', 'state', query.state, TASK_RUN_STATES);
  if (query.name !== undefined) filter.add((n) => `name = $${n}`, query.name);
  if (query.worker !== undefined) filter.add((n) => `worker = $${n}`, query.worker);
  if (query.queue !== undefined) filter.add((n) => `queue = $${n}`, query.queue);
  if (query.since !== undefined) filter.add((n) => `sent_at >= $${n}`, query.since);
  if (query.until !== undefined) filter.add((n) => `sent_at < $${n}`, query.until);
  if (query.idPrefix !== undefined) filter.add((n) => `id LIKE $${n}`, `${likeText(query.idPrefix)}%`);
  if (query.namePrefix !== undefined) filter.add((n) => `name ILIKE $${n}`, `${likeText(query.namePrefix)}%`);
  if (query.nameContains !== undefined) filter.add((n) => `name ILIKE $${n}`, `%${likeText(query.nameContains)}%`);
  const sort = query.sort ?? 'sent';
  const order = query.order ?? 'desc';
  if (!Object.hasOwn(TASK_RUN_SORTS, sort)) throw new BadParameterError('sort', `sort ${JSON.stringify(sort)} must be one of ${TASK_RUN_SORT_NAMES.join(', ')}`);
  if (order !== 'asc' && order !== 'desc') throw new BadParameterError('order', `order ${JSON.stringify(order)} must be asc or desc`);
  const select = `SELECT ${LIST_COLUMNS} FROM ${store.table('task_runs')}`;
  if (sort === 'sent' && order === 'desc') {
    // The default order keeps its indexes (sent_at DESC, id DESC) and its cursors.
    const { text, values } = filter.page(select, 'sent_at', query.after, limit);
    const { rows } = await store.query<TaskRunRow>(text, values);
    return onePage(rows.map(readRun), limit, (run) => run.sentAt);
  }
  const key = TASK_RUN_SORTS[sort];
  const { text, values } = filter.sortedPage(select, `${key} AS sort_key`, key, order, query.after, sort, limit);
  const { rows } = await store.query<TaskRunRow & { sort_key: unknown }>(text, values);
  const items = rows.slice(0, limit);
  const last = rows.length > limit ? rows[limit - 1] : undefined;
  return { items: items.map(readRun), ...(last !== undefined ? { next: sortCursor(sort, order, last.sort_key, last.id) } : {}) };
}

/** `text` with LIKE's wildcards escaped. */
const likeText = (text: string): string => text.replace(/[\\%_]/g, '\\$&');
