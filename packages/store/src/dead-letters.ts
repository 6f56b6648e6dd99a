import { joinAlertGroup, type AlertOutcome, type AlertRouting } from './alert-groups.ts';
import { deadLetterIdentity, deadLetterKey, parseId, toJsonb, DEAD_LETTER_STATUSES, type DeadLetter, type DeadLetterInput, type DeadLetterStatus, type DeadLetterSummary } from './dead-letter.ts';
import { DeadLetterNotFoundError, IgnoreRefusedError, type PriorReview } from './errors.ts';
import { readDeadLetterRow, SUMMARY_COLUMNS, type DeadLetterRow } from './dead-letter-row.ts';
import { requeueDeadLetters, type RequeueOptions, type RequeueOutcome, type RequeueSelection } from './requeue.ts';
import { ListFilter, onePage, pageLimit } from './list-filter.ts';
import type { Store } from './store.ts';

/** The largest page of dead letters one query returns. */
export const MAX_DEAD_LETTER_PAGE = 1000;

/** The result of storing a dead letter. */
export interface RecordOutcome {
  readonly id: string;
  /** False when this dead letter was stored before (a redelivery): nothing was written. */
  readonly created: boolean;
  /** Set when the dead letter was new and alert routing was given. */
  readonly alert?: AlertOutcome;
}

/** Which dead letters: of `list`, `count`, a bulk requeue or ignore. */
export interface DeadLetterFilter {
  /** Only these statuses. Default: all. */
  readonly status?: DeadLetterStatus | readonly DeadLetterStatus[];
  /** Only this task name. Default: any. */
  readonly task?: string;
  /** Only this reason. Default: any. */
  readonly reason?: string;
  /** Only this error class (`TimeoutError`). Default: any. */
  readonly errorClass?: string;
  /** Only dead letters whose last failure is at or after this time. Default: any time. */
  readonly since?: Date;
  /** Only dead letters whose last failure is before this time. Default: any time. */
  readonly until?: Date;
  /** Only the dead letters of this task message id (a task's id: its dead letter). Default: any. */
  readonly messageId?: string;
}

/** Filters and page of `list`. */
export interface DeadLetterQuery extends DeadLetterFilter {
  /** Page size, 1 to `MAX_DEAD_LETTER_PAGE`. Default: `50`. */
  readonly limit?: number;
  /** The `next` cursor of the previous page. Default: the first page (newest first). */
  readonly after?: string;
}

export interface DeadLetterPage {
  readonly items: readonly DeadLetterSummary[];
  /** Pass as `after` for the next page; absent on the last page. */
  readonly next?: string;
}

/** One entry of a dead letter's audit trail. */
export interface DeadLetterReview {
  readonly action: 'requeued' | 'ignored' | 'edited';
  readonly by: string;
  /** ISO 8601. */
  readonly at: string;
  readonly note: string | null;
  /** requeued: `replayId`; edited: `before` and `after` (`args`, `kwargs`). */
  readonly detail: Record<string, unknown>;
}

/** One dead letter ignored, and the review that this replaced (only with `force`). */
export interface IgnoreOutcome {
  readonly id: string;
  readonly replaced: PriorReview | null;
}

export interface ReviewNote {
  /** Default: `unknown`. */
  readonly by?: string;
  readonly note?: string;
}

/**
 * The dead letters of one store: storing them (idempotently, with their alert in the same transaction),
 * and the review and replay operations the CLI and the dashboard use.
 */
export class DeadLetters {
  readonly store: Store;

  constructor(store: Store) {
    this.store = store;
  }

  /**
   * Stores a dead letter once. A task message is one failed task per task id and attempt: a duplicate of that
   * death (redelivered, re-run after a lost connection, dead-lettered twice) finds the first row and writes
   * nothing, whatever its time or reason, even when the first was requeued or ignored since. A body that is not
   * a task message is one row per message id, death mark and body. With `alert`, a new dead letter joins its
   * alert group and any page goes to the outbox in the same transaction, so a crash cannot store it without its alert.
   */
  async record(input: DeadLetterInput, alert?: AlertRouting): Promise<RecordOutcome> {
    const key = deadLetterKey(input);
    const identity = deadLetterIdentity(input);
    const messageId = identity?.taskId ?? input.messageId;
    const table = this.store.table('dead_letters');
    return this.store.transaction(async (client) => {
      // No conflict target: either unique key (the identity, or the key of a body that is not a task) makes it a duplicate.
      const inserted = await client.query<{ id: string }>(
        `INSERT INTO ${table} (dedup_key, message_id, task, queue, args, kwargs, reason, detail, error_class, error_code,
           error_message, error_stack, error, attempts, worker, first_failed_at, last_failed_at, trace_id, replay_of,
           headers, properties, body, task_attempt)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)
         ON CONFLICT DO NOTHING RETURNING id`,
        [
          key, text(messageId), text(input.task), text(input.queue), json(input.args), json(input.kwargs), text(input.reason) ?? 'unknown',
          text(input.detail), text(input.error?.name), text(input.error?.code), text(input.error?.message), text(input.error?.stack), json(input.error),
          input.attempts ?? null, text(input.worker), input.firstFailedAt ?? null, input.lastFailedAt, text(input.traceId), text(input.replayOf),
          json(input.headers) ?? '{}', json(input.properties) ?? '{}', input.body, identity?.attempt ?? null,
        ],
      );
      const created = inserted.rows[0];
      if (created === undefined) {
        const existing = await client.query<{ id: string }>(
          `SELECT id FROM ${table} WHERE dedup_key = $1 OR (message_id = $2 AND task_attempt = $3) ORDER BY id LIMIT 1`,
          [key, text(messageId), identity?.attempt ?? null],
        );
        return { id: String(existing.rows[0]?.id), created: false };
      }
      const id = String(created.id);
      if (alert === undefined) return { id, created: true };
      return { id, created: true, alert: await joinAlertGroup(client, this.store, id, alert) };
    });
  }

  /** @throws DeadLetterNotFoundError when there is no dead letter `id`. */
  async get(id: string): Promise<DeadLetter> {
    const { rows } = await this.store.query<DeadLetterRow>(`SELECT * FROM ${this.store.table('dead_letters')} WHERE id = $1`, [parseId(id)]);
    if (rows[0] === undefined) throw new DeadLetterNotFoundError([id]);
    return readDeadLetterRow(rows[0]) as DeadLetter;
  }

  /** Newest first (by last failure, then id), a page at a time, with a cursor that stays right while rows arrive. */
  async list(query: DeadLetterQuery = {}): Promise<DeadLetterPage> {
    const limit = pageLimit(query.limit, MAX_DEAD_LETTER_PAGE);
    const filter = whereOf(query);
    const { text, values } = filter.page(`SELECT ${SUMMARY_COLUMNS} FROM ${this.store.table('dead_letters')}`, 'last_failed_at', query.after, limit);
    const { rows } = await this.store.query<DeadLetterRow>(text, values);
    return onePage(rows.map(readDeadLetterRow), limit, (letter) => letter.lastFailedAt);
  }

  /**
   * Marks dead letters `ignored`, with who and why. One already ignored is refused unless `force`, as `requeue`
   * refuses one already requeued: its review would be replaced without anyone noticing. The rows are locked
   * while checked, so two reviewers at once cannot both ignore the same letter.
   * @returns each id, with the review it replaced (`force`), else `null`.
   * @throws DeadLetterNotFoundError naming every id that does not exist, IgnoreRefusedError naming every one
   * already ignored; nothing is changed then.
   */
  async ignore(ids: readonly string[], review: ReviewNote = {}, options: { readonly force?: boolean } = {}): Promise<readonly IgnoreOutcome[]> {
    const wanted = ids.map(parseId);
    const table = this.store.table('dead_letters');
    return this.store.transaction(async (client) => {
      const { rows } = await client.query<{ id: string; status: string; status_by: string | null; status_at: Date | null; status_note: string | null }>(
        `SELECT id, status, status_by, status_at, status_note FROM ${table} WHERE id = ANY($1::bigint[]) FOR UPDATE`,
        [wanted],
      );
      const found = new Map(rows.map((row) => [String(row.id), row]));
      const missing = wanted.filter((id) => !found.has(id));
      if (missing.length > 0) throw new DeadLetterNotFoundError(missing);
      const already = new Map<string, PriorReview>();
      for (const row of rows) {
        if (row.status !== 'ignored') continue;
        const id = String(row.id);
        already.set(id, { id, by: row.status_by, at: row.status_at?.toISOString() ?? null, note: row.status_note });
      }
      if (already.size > 0 && options.force !== true) throw new IgnoreRefusedError(wanted.flatMap((id) => already.get(id) ?? []));
      await client.query(
        `UPDATE ${table} SET status = 'ignored', status_by = $2, status_at = now(), status_note = $3 WHERE id = ANY($1::bigint[])`,
        [wanted, review.by ?? 'unknown', review.note ?? null],
      );
      await client.query(
        `INSERT INTO ${this.store.table('dead_letter_reviews')} (dead_letter_id, action, by, note) SELECT unnest($1::bigint[]), 'ignored', $2, $3`,
        [wanted, review.by ?? 'unknown', review.note ?? null],
      );
      return wanted.map((id) => ({ id, replaced: already.get(id) ?? null }));
    });
  }

  /**
   * Ignores up to `limit` of the pending dead letters of `filter`, oldest first, in one statement: a bulk ignore's
   * batch. Rows another reviewer holds are skipped rather than waited for, and a letter requeued or ignored since
   * it was counted is no longer pending, so it is never turned over.
   * @returns the ids ignored (fewer than `limit` when no more are pending).
   */
  async ignorePending(query: DeadLetterFilter, limit: number, review: ReviewNote = {}): Promise<string[]> {
    const filter = whereOf({ ...query, status: 'pending' });
    const { text, values } = filter.where();
    const table = this.store.table('dead_letters');
    const n = values.length;
    const { rows } = await this.store.query<{ id: string }>(
      `WITH picked AS (SELECT id FROM ${table} ${text} ORDER BY last_failed_at, id LIMIT $${n + 1} FOR UPDATE SKIP LOCKED),
        ignored AS (UPDATE ${table} AS d SET status = 'ignored', status_by = $${n + 2}, status_at = now(), status_note = $${n + 3}
          FROM picked WHERE d.id = picked.id RETURNING d.id, d.last_failed_at),
        reviewed AS (INSERT INTO ${this.store.table('dead_letter_reviews')} (dead_letter_id, action, by, note)
          SELECT id, 'ignored', $${n + 2}, $${n + 3} FROM ignored)
      SELECT id FROM ignored ORDER BY last_failed_at, id`,
      [...values, Math.max(1, Math.floor(limit)), review.by ?? 'unknown', review.note ?? null],
    );
    return rows.map((row) => String(row.id));
  }

  /** How many dead letters match: what a bulk requeue or ignore of `filter` would touch. */
  async count(query: DeadLetterFilter = {}): Promise<number> {
    const filter = whereOf(query);
    const { text, values } = filter.where();
    const { rows } = await this.store.query<{ count: string }>(`SELECT count(*) AS count FROM ${this.store.table('dead_letters')} ${text}`, values);
    return Number(rows[0]?.count ?? 0);
  }

  /** The ids matching `filter`, oldest first, at most `limit`: the rows of a bulk requeue or ignore. */
  async idsMatching(query: DeadLetterFilter, limit: number): Promise<string[]> {
    const filter = whereOf(query);
    const { text, values } = filter.where();
    const { rows } = await this.store.query<{ id: string }>(
      `SELECT id FROM ${this.store.table('dead_letters')} ${text} ORDER BY last_failed_at, id LIMIT ${Math.max(1, Math.floor(limit))}`, values);
    return rows.map((row) => String(row.id));
  }

  /** A dead letter's audit trail, oldest first. */
  async reviews(id: string): Promise<readonly DeadLetterReview[]> {
    const { rows } = await this.store.query<{ action: DeadLetterReview['action']; by: string; at: Date; note: string | null; detail: Record<string, unknown> }>(
      `SELECT action, by, at, note, detail FROM ${this.store.table('dead_letter_reviews')} WHERE dead_letter_id = $1 ORDER BY id`, [parseId(id)]);
    return rows.map((row) => ({ action: row.action, by: row.by, at: row.at.toISOString(), note: row.note, detail: row.detail }));
  }

  /** Sends dead letters' tasks again; see `requeueDeadLetters`. */
  requeue(selection: RequeueSelection, options: RequeueOptions): Promise<readonly RequeueOutcome[]> {
    return requeueDeadLetters(this, selection, options);
  }

  /** How many dead letters wait for review. */
  async pendingCount(): Promise<number> {
    const { rows } = await this.store.query<{ count: string }>(`SELECT count(*) AS count FROM ${this.store.table('dead_letters')} WHERE status = 'pending'`);
    return Number(rows[0]?.count ?? 0);
  }
}


function whereOf(query: DeadLetterFilter): ListFilter {
  const filter = new ListFilter();
  filter.addOneOf('status', 'status', query.status, DEAD_LETTER_STATUSES);
  if (query.task !== undefined) filter.add((n) => `task = $${n}`, query.task);
  if (query.reason !== undefined) filter.add((n) => `reason = $${n}`, query.reason);
  if (query.errorClass !== undefined) filter.add((n) => `error_class = $${n}`, query.errorClass);
  if (query.since !== undefined) filter.add((n) => `last_failed_at >= $${n}`, query.since);
  if (query.until !== undefined) filter.add((n) => `last_failed_at < $${n}`, query.until);
  if (query.messageId !== undefined) filter.add((n) => `message_id = $${n}`, query.messageId);
  return filter;
}

function text(value: string | undefined): string | null {
  return value === undefined ? null : value.replaceAll('\u0000', '');
}

function json(value: unknown): string | null {
  return value === undefined ? null : JSON.stringify(toJsonb(value));
}
