import type { LifecycleEvent } from '@nightshift/broker';
import type { TaskEventInput, TaskRunError, TaskRunNote, TaskRunState } from '@nightshift/store';
import { redact, type RedactOptions } from '@nightshift/telemetry';

// A suppressed duplicate is a note on the timeline: its attempt had finished, and the run stays where that put it.
// What an attempt logged is a note too; a progress report is kept on the run (the newest wins).
const STATES: Readonly<Record<string, TaskRunState | TaskRunNote>> = {
  'task.sent': 'sent', 'task.received': 'received', 'task.started': 'started', 'task.succeeded': 'succeeded',
  'task.failed': 'failed', 'task.retried': 'retried', 'task.dead-lettered': 'dead-lettered', 'task.revoked': 'revoked',
  'task.duplicate-suppressed': 'duplicate-suppressed',
  'task.logged': 'logged', 'task.progress': 'progress',
};

// Fields that become columns; anything else an event says goes to the timeline's detail.
const KNOWN = new Set(['type', 'at', 'id', 'task', 'queue', 'attempt', 'maxAttempts', 'worker', 'sentAt', 'origin', 'args', 'kwargs', 'traceId', 'runtimeMs', 'result', 'error', 'final']);

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const whole = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const record = (value: unknown): Record<string, unknown> | undefined => (typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : undefined);

/**
 * A task lifecycle event as the history records it, with args, kwargs, results and errors redacted by the
 * alerter's rules. `undefined` for events that are not about a task run, or carry no id.
 */
export function toTaskEvent(event: LifecycleEvent, redaction: RedactOptions): TaskEventInput | undefined {
  const state = STATES[event.type];
  const runId = text(event.id);
  if (state === undefined || runId === undefined || Number.isNaN(Date.parse(event.at))) return undefined;
  const error = record(event.error);
  const detail: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) if (!KNOWN.has(key)) detail[key] = value;
  const sentAt = text(event.sentAt);
  return {
    runId, state, at: event.at,
    name: text(event.task) ?? 'unknown',
    attempt: whole(event.attempt) ?? 1,
    final: event.final === true,
    ...optional('queue', text(event.queue)),
    ...optional('maxAttempts', whole(event.maxAttempts)),
    ...optional('worker', text(event.worker)),
    ...optional('sentAt', sentAt !== undefined && !Number.isNaN(Date.parse(sentAt)) ? sentAt : undefined),
    ...optional('args', Array.isArray(event.args) ? redact(event.args, redaction) as unknown[] : undefined),
    ...optional('kwargs', record(event.kwargs) ? redact(event.kwargs, redaction) as Record<string, unknown> : undefined),
    ...optional('origin', record(event.origin)),
    ...optional('traceId', text(event.traceId)),
    ...optional('runtimeMs', whole(event.runtimeMs)),
    ...optional('result', event.result === undefined ? undefined : redact(event.result, redaction)),
    ...optional('error', error ? redact(readError(error), redaction) as TaskRunError : undefined),
    ...(Object.keys(detail).length > 0 ? { detail: redact(detail, redaction) as Record<string, unknown> } : {}),
  };
}

function readError(error: Record<string, unknown>): TaskRunError {
  return { ...optional('name', text(error.name)), ...optional('code', text(error.code)), ...optional('message', text(error.message)), ...optional('stack', text(error.stack)) };
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}
