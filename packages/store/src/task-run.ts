/**
 * The task history model: one run per task message id (across its retries) and the events that make it.
 * Pure: folding events into a run is the same rule in memory (a batch) and in SQL (against the stored row).
 */

/** Where a run stands. `failed` is a failed attempt (final or not); the terminal states end the run. */
export type TaskRunState = 'sent' | 'received' | 'started' | 'failed' | 'retried' | 'succeeded' | 'dead-lettered' | 'revoked';

export const TASK_RUN_STATES: readonly TaskRunState[] = Object.freeze(['sent', 'received', 'started', 'failed', 'retried', 'succeeded', 'dead-lettered', 'revoked']);

/**
 * An event that changes nothing about its run's state. `duplicate-suppressed`: a delivery of an attempt that had
 * already finished, acknowledged without running (the run stays where its attempts put it). `logged`: what an
 * attempt wrote through `ctx.log`. Both are timeline entries. `progress`: a running attempt's latest
 * `ctx.progress` report, kept on the run (the newest wins), not on the timeline.
 */
export type TaskRunNote = 'duplicate-suppressed' | 'logged' | 'progress';

const NOTES: ReadonlySet<string> = new Set<TaskRunNote>(['duplicate-suppressed', 'logged', 'progress']);

function isNote(state: TaskRunState | TaskRunNote): state is TaskRunNote {
  return NOTES.has(state);
}

/** An event that moves its run (not a note). */
type TaskStepInput = TaskEventInput & { readonly state: TaskRunState };

function isStep(event: TaskEventInput): event is TaskStepInput {
  return !isNote(event.state);
}

/**
 * Order of states within one attempt. An event moves a run only when its (attempt, rank) is greater than the
 * run's, so a late `started` never overwrites `succeeded`, and a duplicate changes nothing.
 */
const STATE_RANK: Readonly<Record<TaskRunState, number>> = Object.freeze({
  sent: 0, received: 1, started: 2, failed: 3, retried: 4, succeeded: 6, 'dead-lettered': 6, revoked: 6,
});

/** A final failure outranks a failure that will be retried, and is outranked by the dead letter that follows it. */
const FINAL_FAILURE_RANK = 5;

/** The error of a failed attempt, as events carry it. */
export interface TaskRunError {
  readonly name?: string;
  readonly code?: string;
  readonly message?: string;
  readonly stack?: string;
}

/** One lifecycle event of a run, ready to record (already redacted). */
export interface TaskEventInput {
  /** The task message id. */
  readonly runId: string;
  /** The state the event moves its run to, or a note that leaves the run as it is (only its timeline shows it). */
  readonly state: TaskRunState | TaskRunNote;
  /** ISO 8601: when it happened. */
  readonly at: string;
  readonly name: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  /** For `failed`: no more attempts follow. Default: `false`. */
  readonly final?: boolean;
  readonly queue?: string;
  readonly maxAttempts?: number;
  readonly worker?: string;
  /** ISO 8601: when the first attempt was sent. Default: `at`. */
  readonly sentAt?: string;
  readonly args?: readonly unknown[];
  readonly kwargs?: Readonly<Record<string, unknown>>;
  readonly origin?: Readonly<Record<string, unknown>>;
  readonly traceId?: string;
  readonly runtimeMs?: number;
  readonly result?: unknown;
  readonly error?: TaskRunError;
  /** Everything else the event said (delay, reason, …), kept on the timeline. */
  readonly detail?: Readonly<Record<string, unknown>>;
}

/** A run as written: the columns of `task_runs`, in camelCase. */
export interface TaskRunRecord {
  id: string;
  name: string;
  queue: string | null;
  state: TaskRunState;
  stateRank: number;
  attempt: number;
  maxAttempts: number | null;
  worker: string | null;
  args: readonly unknown[] | null;
  kwargs: Readonly<Record<string, unknown>> | null;
  sentAt: string;
  receivedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  runtimeMs: number | null;
  result: unknown;
  errorClass: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  errorStack: string | null;
  traceId: string | null;
  origin: Readonly<Record<string, unknown>> | null;
}

const TERMINAL = new Set<TaskRunState>(['succeeded', 'dead-lettered', 'revoked']);

export function rankOf(event: Pick<TaskEventInput, 'state' | 'final'>): number {
  // A note sorts with the receipt of its delivery among the timeline entries of one instant.
  if (isNote(event.state)) return STATE_RANK.received;
  return event.state === 'failed' && event.final === true ? FINAL_FAILURE_RANK : STATE_RANK[event.state];
}

/** The run one event alone describes (a note describes none). */
function runFromEvent(event: TaskStepInput): TaskRunRecord {
  const ends = TERMINAL.has(event.state) || (event.state === 'failed' && event.final === true);
  return {
    id: event.runId,
    name: event.name,
    queue: event.queue ?? null,
    state: event.state,
    stateRank: rankOf(event),
    attempt: event.attempt,
    maxAttempts: event.maxAttempts ?? null,
    worker: event.worker ?? null,
    args: event.args ?? null,
    kwargs: event.kwargs ?? null,
    sentAt: event.sentAt ?? event.at,
    receivedAt: event.state === 'received' ? event.at : null,
    startedAt: event.state === 'started' ? event.at : null,
    finishedAt: ends ? event.at : null,
    runtimeMs: event.runtimeMs ?? null,
    result: event.state === 'succeeded' ? (event.result ?? null) : null,
    errorClass: event.error?.name ?? null,
    errorCode: event.error?.code ?? null,
    errorMessage: event.error?.message ?? null,
    errorStack: event.error?.stack ?? null,
    traceId: event.traceId ?? null,
    origin: event.origin ?? null,
  };
}

/** Whether `b` is further along than `a`: a later attempt, or a later state of the same attempt. */
function isNewer(a: Pick<TaskRunRecord, 'attempt' | 'stateRank'>, b: Pick<TaskRunRecord, 'attempt' | 'stateRank'>): boolean {
  return b.attempt > a.attempt || (b.attempt === a.attempt && b.stateRank > a.stateRank);
}

/**
 * Merges what `b` says into `a`. The newer of the two decides the state and the attempt's outcome; the
 * older only fills gaps (a late `started` sets `startedAt` of its attempt, never the state). The same rule
 * is `MERGE_SQL` in `task-runs.ts`.
 */
function mergeRuns(a: TaskRunRecord, b: TaskRunRecord): TaskRunRecord {
  const newer = isNewer(a, b);
  const [lead, other] = newer ? [b, a] : [a, b];
  const sameAttempt = a.attempt === b.attempt;
  return {
    ...lead,
    name: a.name || b.name,
    queue: a.queue ?? b.queue,
    maxAttempts: a.maxAttempts ?? b.maxAttempts,
    args: a.args ?? b.args,
    kwargs: a.kwargs ?? b.kwargs,
    sentAt: a.sentAt < b.sentAt ? a.sentAt : b.sentAt,
    traceId: a.traceId ?? b.traceId,
    origin: a.origin ?? b.origin,
    worker: lead.worker ?? other.worker,
    receivedAt: lead.receivedAt ?? (sameAttempt ? other.receivedAt : null),
    startedAt: lead.startedAt ?? (sameAttempt ? other.startedAt : null),
    finishedAt: newer ? b.finishedAt : a.finishedAt,
    runtimeMs: lead.runtimeMs ?? (sameAttempt ? other.runtimeMs : null),
    result: newer ? b.result : a.result,
    errorClass: lead.errorClass ?? other.errorClass,
    errorCode: lead.errorClass !== null ? lead.errorCode : other.errorCode,
    errorMessage: lead.errorClass !== null ? lead.errorMessage : other.errorMessage,
    errorStack: lead.errorClass !== null ? lead.errorStack : other.errorStack,
  };
}

/** Folds a batch of events into one record per run, in the order given (the order does not change the outcome). Notes are left out. */
export function foldEvents(events: readonly TaskEventInput[]): Map<string, TaskRunRecord> {
  const runs = new Map<string, TaskRunRecord>();
  for (const event of events) {
    if (!isStep(event)) continue;
    const run = runFromEvent(event);
    const current = runs.get(run.id);
    runs.set(run.id, current === undefined ? run : mergeRuns(current, run));
  }
  return runs;
}
