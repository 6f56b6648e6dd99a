import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BadParameterError, decode, encode, type TaskEnvelope } from '@nightshift/core';
import { parseId, toJsonb, type DeadLetterStatus } from './dead-letter.ts';
import type { DeadLetterFilter, DeadLetters } from './dead-letters.ts';
import { DeadLetterNotFoundError, RequeueRefusedError } from './errors.ts';
import type { Queryable } from './store.ts';

/** A task message to send again, built from a stored dead letter. */
export interface ReplayMessage {
  readonly deadLetterId: string;
  /** The logical queue (`reports`), the routing key on the `tasks` exchange. */
  readonly queue: string;
  /** The original envelope with a new id, `attempt: 1`, a fresh `sentAt` and origin `{ type: 'replay', deadLetterId, originalId }`. */
  readonly envelope: TaskEnvelope;
  readonly body: Buffer;
  /** The original message's trace context (`traceparent`, `tracestate`), so the replay belongs to the original trace. */
  readonly traceHeaders: Readonly<Record<string, string>>;
}

/** Publishes a replay and resolves once the broker confirmed it. */
export type ReplayPublisher = (replay: ReplayMessage) => Promise<void>;

/** Which dead letters to requeue: these ids, or every one matching the filter (status default: `pending`). */
export type RequeueSelection =
  | { readonly ids: readonly string[] }
  | (DeadLetterFilter & {
    /** At most this many. Default: `1000`. */
    readonly limit?: number;
  });

/** New arguments for the replay of one dead letter, recorded in its audit trail with the old ones. */
export interface ReplayEdit {
  readonly args?: readonly unknown[];
  readonly kwargs?: Readonly<Record<string, unknown>>;
}

export interface RequeueOptions {
  readonly publish: ReplayPublisher;
  /** Requeue even dead letters that were requeued before. Default: `false` (they are refused). */
  readonly force?: boolean;
  /** Who asked; kept on the row. Default: `unknown`. */
  readonly by?: string;
  readonly note?: string;
  /** Replace the args or kwargs of the replay (one id only). Default: the dead letter's own. */
  readonly edit?: ReplayEdit;
  /** At most this many replays a second (SQS redrive's velocity). Default: no limit. */
  readonly perSecond?: number;
  /** Called after each replay with how many are done of how many. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Stops between replays; those not yet sent stay as they were. */
  readonly signal?: AbortSignal;
  /** Runs in each replay's transaction after it is marked: a bulk requeue counts it there, so its count survives a crash. */
  readonly onReplayed?: (client: Queryable, outcome: RequeueOutcome) => Promise<void>;
}

export interface RequeueOutcome {
  readonly id: string;
  readonly task: string;
  readonly queue: string;
  /** The id of the new task message. */
  readonly replayId: string;
}

interface Candidate {
  id: string;
  status: DeadLetterStatus;
  body: Buffer;
  headers: Record<string, unknown>;
  status_at: Date | null;
  status_by: string | null;
}

/**
 * Sends dead letters' tasks again, each to its own queue, and marks them `requeued`. Every id is checked
 * before anything is sent: an unknown id, a body that is not a task message, or a dead letter requeued
 * before (unless `force`) refuses the whole call. Each row is locked while its replay is published and
 * marked in the same transaction, so two people requeuing at once send it once.
 * @throws DeadLetterNotFoundError, RequeueRefusedError
 */
export async function requeueDeadLetters(deadLetters: DeadLetters, selection: RequeueSelection, options: RequeueOptions): Promise<readonly RequeueOutcome[]> {
  const { store } = deadLetters;
  const table = store.table('dead_letters');
  const ids = 'ids' in selection
    ? selection.ids.map(parseId)
    : await deadLetters.idsMatching({ ...selection, status: selection.status ?? 'pending' }, selection.limit ?? 1000);
  if (options.edit !== undefined && ids.length !== 1) throw new BadParameterError('args', 'args can be edited when one dead letter is requeued, not several');
  if (options.perSecond !== undefined && !(options.perSecond > 0)) throw new BadParameterError('perSecond', 'perSecond must be above 0');
  const { rows } = await store.query<Candidate>(`SELECT id, status, body, headers, status_at, status_by FROM ${table} WHERE id = ANY($1::bigint[])`, [ids]);
  const found = new Map(rows.map((row) => [String(row.id), row]));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw new DeadLetterNotFoundError(missing);
  for (const row of rows) check(row, options.force === true);

  const outcomes: RequeueOutcome[] = [];
  const reviews = store.table('dead_letter_reviews');
  const startedMs = Date.now();
  for (const id of ids) {
    if (options.signal?.aborted) break;
    // Paced from the start rather than after each: a slow publish does not lower the rate further.
    if (options.perSecond !== undefined) {
      const dueMs = startedMs + (outcomes.length * 1000) / options.perSecond;
      if (dueMs > Date.now()) await sleep(dueMs - Date.now());
    }
    outcomes.push(await store.transaction(async (client) => {
      const locked = await client.query<Candidate>(`SELECT id, status, body, headers, status_at, status_by FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
      const row = locked.rows[0];
      if (row === undefined) throw new DeadLetterNotFoundError([id]);
      check(row, options.force === true);
      const replay = buildReplay(row, options.edit);
      if (options.edit !== undefined) {
        const before = decode(row.body);
        const old = before.ok ? { args: before.envelope.args, kwargs: before.envelope.kwargs } : {};
        await client.query(`INSERT INTO ${reviews} (dead_letter_id, action, by, note, detail) VALUES ($1, 'edited', $2, $3, $4)`, [
          id, options.by ?? 'unknown', options.note ?? null,
          JSON.stringify(toJsonb({ before: old, after: { args: replay.envelope.args, kwargs: replay.envelope.kwargs } })),
        ]);
      }
      await options.publish(replay);
      await client.query(
        `UPDATE ${table} SET status = 'requeued', status_by = $2, status_at = now(), status_note = $3,
           requeue_count = requeue_count + 1, replay_id = $4 WHERE id = $1`,
        [id, options.by ?? 'unknown', options.note ?? null, replay.envelope.id],
      );
      await client.query(`INSERT INTO ${reviews} (dead_letter_id, action, by, note, detail) VALUES ($1, 'requeued', $2, $3, $4)`,
        [id, options.by ?? 'unknown', options.note ?? null, JSON.stringify({ replayId: replay.envelope.id })]);
      const outcome = { id, task: replay.envelope.task, queue: replay.queue, replayId: replay.envelope.id };
      await options.onReplayed?.(client, outcome);
      return outcome;
    }));
    options.onProgress?.(outcomes.length, ids.length);
  }
  return outcomes;
}

/** The replay of a stored task message: same task, args and queue, a new id, a fresh attempt count, a replay origin. */
function buildReplay(row: Pick<Candidate, 'id' | 'body' | 'headers'>, edit: ReplayEdit | undefined, now = Date.now()): ReplayMessage {
  const decoded = decode(row.body);
  if (!decoded.ok) throw new RequeueRefusedError(String(row.id), `dead letter #${row.id} is not a task message (${decoded.error.reason}), so it cannot be requeued; ignore it instead`);
  const { eta: _eta, expires: _expires, ...original } = decoded.envelope;
  const envelope: TaskEnvelope = {
    ...original,
    ...(edit?.args !== undefined ? { args: [...edit.args] } : {}),
    ...(edit?.kwargs !== undefined ? { kwargs: { ...edit.kwargs } } : {}),
    id: randomUUID(),
    attempt: 1,
    sentAt: new Date(now).toISOString(),
    origin: { type: 'replay', deadLetterId: String(row.id), originalId: original.id },
  };
  const traceHeaders: Record<string, string> = {};
  for (const name of ['traceparent', 'tracestate']) {
    const value = row.headers[name];
    if (typeof value === 'string' && value !== '') traceHeaders[name] = value;
  }
  return { deadLetterId: String(row.id), queue: envelope.queue, envelope, body: encode(envelope), traceHeaders };
}

function check(row: Candidate, force: boolean): void {
  if (row.status === 'requeued' && !force) {
    const when = row.status_at ? ` at ${row.status_at.toISOString()}` : '';
    throw new RequeueRefusedError(String(row.id), `dead letter #${row.id} was already requeued${when} by ${row.status_by ?? 'someone'}; add --force (force: true) to send it again`);
  }
  const decoded = decode(row.body);
  if (!decoded.ok) throw new RequeueRefusedError(String(row.id), `dead letter #${row.id} is not a task message (${decoded.error.reason}), so it cannot be requeued; ignore it instead`);
}
