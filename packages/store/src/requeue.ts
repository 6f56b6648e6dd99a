import { randomUUID } from 'node:crypto';
import { decode, encode, type TaskEnvelope } from '@nightshift/core';
import { parseId, type DeadLetterStatus } from './dead-letter.ts';
import type { DeadLetters } from './dead-letters.ts';
import { DeadLetterNotFoundError, RequeueRefusedError } from './errors.ts';

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

/** Which dead letters to requeue: these ids, or every one matching the filter. */
export type RequeueSelection =
  | { readonly ids: readonly string[] }
  | {
    readonly task?: string;
    /** Default: `pending`. */
    readonly status?: DeadLetterStatus;
    readonly since?: Date;
    /** At most this many. Default: `1000`. */
    readonly limit?: number;
  };

export interface RequeueOptions {
  readonly publish: ReplayPublisher;
  /** Requeue even dead letters that were requeued before. Default: `false` (they are refused). */
  readonly force?: boolean;
  /** Who asked; kept on the row. Default: `unknown`. */
  readonly by?: string;
  readonly note?: string;
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
  const ids = 'ids' in selection ? selection.ids.map(parseId) : await selectIds(deadLetters, selection);
  const { rows } = await store.query<Candidate>(`SELECT id, status, body, headers, status_at, status_by FROM ${table} WHERE id = ANY($1::bigint[])`, [ids]);
  const found = new Map(rows.map((row) => [String(row.id), row]));
  const missing = ids.filter((id) => !found.has(id));
  if (missing.length > 0) throw new DeadLetterNotFoundError(missing);
  for (const row of rows) check(row, options.force === true);

  const outcomes: RequeueOutcome[] = [];
  for (const id of ids) {
    outcomes.push(await store.transaction(async (client) => {
      const locked = await client.query<Candidate>(`SELECT id, status, body, headers, status_at, status_by FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
      const row = locked.rows[0];
      if (row === undefined) throw new DeadLetterNotFoundError([id]);
      check(row, options.force === true);
      const replay = buildReplay(row);
      await options.publish(replay);
      await client.query(
        `UPDATE ${table} SET status = 'requeued', status_by = $2, status_at = now(), status_note = $3,
           requeue_count = requeue_count + 1, replay_id = $4 WHERE id = $1`,
        [id, options.by ?? 'unknown', options.note ?? null, replay.envelope.id],
      );
      return { id, task: replay.envelope.task, queue: replay.queue, replayId: replay.envelope.id };
    }));
  }
  return outcomes;
}

/** The replay of a stored task message: same task, args and queue, a new id, a fresh attempt count, a replay origin. */
function buildReplay(row: Pick<Candidate, 'id' | 'body' | 'headers'>, now = Date.now()): ReplayMessage {
  const decoded = decode(row.body);
  if (!decoded.ok) throw new RequeueRefusedError(String(row.id), `dead letter #${row.id} is not a task message (${decoded.error.reason}), so it cannot be requeued; ignore it instead`);
  const { eta: _eta, expires: _expires, ...original } = decoded.envelope;
  const envelope: TaskEnvelope = {
    ...original,
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

async function selectIds(deadLetters: DeadLetters, filter: Exclude<RequeueSelection, { ids: readonly string[] }>): Promise<string[]> {
  const ids: string[] = [];
  const limit = filter.limit ?? 1000;
  let after: string | undefined;
  do {
    const page = await deadLetters.list({
      status: filter.status ?? 'pending', limit: Math.min(500, limit - ids.length),
      ...(filter.task !== undefined ? { task: filter.task } : {}), ...(filter.since !== undefined ? { since: filter.since } : {}), ...(after !== undefined ? { after } : {}),
    });
    ids.push(...page.items.map((item) => item.id));
    after = page.next;
  } while (after !== undefined && ids.length < limit);
  return ids.reverse(); // oldest first: replays go out in the order the tasks died
}
