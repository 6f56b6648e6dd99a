import type { SerializedError } from '@nightshift/core';
import type { DeadLetter, DeadLetterStatus, DeadLetterSummary } from './dead-letter.ts';

/** A `dead_letters` row as pg returns it (a listing selects only the summary columns). */
export interface DeadLetterRow {
  id: string;
  message_id: string | null;
  task: string | null;
  queue: string | null;
  reason: string;
  error_class: string | null;
  error_message: string | null;
  attempts: number | null;
  last_failed_at: Date;
  status: DeadLetterStatus;
  args?: unknown[] | null;
  kwargs?: Record<string, unknown> | null;
  detail?: string | null;
  error_code?: string | null;
  error_stack?: string | null;
  error?: SerializedError | null;
  worker?: string | null;
  first_failed_at?: Date | null;
  trace_id?: string | null;
  replay_of?: string | null;
  headers?: Record<string, unknown>;
  properties?: Record<string, unknown>;
  body?: Buffer;
  status_by?: string | null;
  status_at?: Date | null;
  status_note?: string | null;
  requeue_count?: number;
  replay_id?: string | null;
  stored_at?: Date;
}

export const SUMMARY_COLUMNS = 'id, message_id, task, queue, reason, error_class, error_message, attempts, last_failed_at, status';

/** A row as the API shows it: camelCase, ids as strings, times as ISO 8601. Full rows give a `DeadLetter`. */
export function readDeadLetterRow(row: DeadLetterRow): DeadLetterSummary | DeadLetter {
  const summary: DeadLetterSummary = {
    id: String(row.id),
    messageId: row.message_id,
    task: row.task,
    queue: row.queue,
    reason: row.reason,
    errorClass: row.error_class,
    errorMessage: row.error_message,
    attempts: row.attempts,
    lastFailedAt: row.last_failed_at.toISOString(),
    status: row.status,
  };
  if (row.body === undefined) return summary;
  return {
    ...summary,
    args: row.args ?? null,
    kwargs: row.kwargs ?? null,
    detail: row.detail ?? null,
    errorCode: row.error_code ?? null,
    errorStack: row.error_stack ?? null,
    error: row.error ?? null,
    worker: row.worker ?? null,
    firstFailedAt: row.first_failed_at?.toISOString() ?? null,
    traceId: row.trace_id ?? null,
    replayOf: row.replay_of ?? null,
    headers: row.headers ?? {},
    properties: row.properties ?? {},
    body: row.body,
    statusBy: row.status_by ?? null,
    statusAt: row.status_at?.toISOString() ?? null,
    statusNote: row.status_note ?? null,
    requeueCount: row.requeue_count ?? 0,
    replayId: row.replay_id ?? null,
    storedAt: (row.stored_at ?? row.last_failed_at).toISOString(),
  };
}
