import { formatDuration } from '@nightshift/core';
import { formatInZone } from './describe.ts';
import { entryZone, jitterOffsetMs, type ScheduleEntry } from './entry.ts';
import { upcomingFireTimes } from './entry-times.ts';

/** How one schedule entry is doing, as the alerter pages it and the dashboard shows it. */
export type EntryHealthStatus = 'healthy' | 'overdue' | 'failing' | 'paused' | 'ended';

/** One recent run of an entry, newest first in `EntryFacts.recentRuns`. */
export interface EntryRunFact {
  readonly id: string;
  /** The fire time the run stands for (its `origin.scheduledFor`). */
  readonly scheduledForMs: number;
  readonly state: 'sent' | 'received' | 'started' | 'failed' | 'retried' | 'succeeded' | 'dead-lettered' | 'revoked';
  /** The last error of a failed or dead-lettered run. */
  readonly error?: string;
}

/** Fire times of the entry that were not sent since its last success, by reason (`paused`, `overlap`, a misfire reason, …). */
export type NotSentFacts = Readonly<Record<string, number>>;

/** What the judge needs to know about one entry: from the task history, beat's lease and the queue. */
export interface EntryFacts {
  /** The newest succeeded run. */
  readonly lastSuccess?: { readonly scheduledForMs: number; readonly finishedAtMs: number };
  /**
   * From when the entry is watched: when it was first watched, its definition last changed or it was last resumed,
   * whichever is latest. No success is due for a fire time before it: the next one is due after the first fire
   * time after this or after the last success's, whichever is later.
   */
  readonly watchedSinceMs: number;
  readonly paused: boolean;
  /** Newest first; enough of them to count a streak (at least `afterFailures`). */
  readonly recentRuns: readonly EntryRunFact[];
  readonly notSent: NotSentFacts;
  /** Whether a beat holds the lease; `undefined` when it could not be read. */
  readonly beatLeader: boolean | undefined;
  /** Consumers on the entry's queue; `undefined` when it could not be read. */
  readonly consumers: number | undefined;
  /** The entry's queue, for the cause's words. */
  readonly queue: string;
}

export interface EntryHealth {
  readonly status: EntryHealthStatus;
  /** When a success is due by: the next fire time after the last success, plus jitter, horizon and tolerance. `undefined`: no switch (off, paused or ended). */
  readonly dueByMs: number | undefined;
  readonly lastSuccessMs: number | undefined;
  /** Runs in a row, newest first, that ended in a dead letter. */
  readonly consecutiveFailures: number;
  /** The most likely cause the judge can see, in words (overdue and failing only). */
  readonly cause: string | undefined;
}

/**
 * Judges one entry at `nowMs`. Overdue: no success by the due time, whatever the cause (beat down, no worker,
 * runs failing, hanging, skipped). Failing: `alert.afterFailures` runs in a row dead-lettered. Paused and ended
 * entries are neither. Pure: the facts are gathered by the caller.
 * @param horizonMs how long after its fire time a run may still be running or retrying (the task's hard time
 * limit over every attempt, plus the waits between them).
 */
export function judgeEntry(entry: ScheduleEntry, appZone: string, horizonMs: number, facts: EntryFacts, nowMs: number): EntryHealth {
  const consecutiveFailures = streak(facts.recentRuns);
  const lastSuccessMs = facts.lastSuccess?.finishedAtMs;
  const base = { lastSuccessMs, consecutiveFailures };
  if (facts.paused) return { ...base, status: 'paused', dueByMs: undefined, cause: undefined };
  const dueByMs = dueBy(entry, appZone, horizonMs, facts);
  if (dueByMs === undefined && entry.endAt !== undefined && nowMs > entry.endAt) return { ...base, status: 'ended', dueByMs, cause: undefined };
  if (dueByMs !== undefined && nowMs > dueByMs) return { ...base, status: 'overdue', dueByMs, cause: likelyCause(entry, appZone, facts, consecutiveFailures) };
  const afterFailures = entry.alert.afterFailures;
  if (afterFailures !== undefined && consecutiveFailures >= afterFailures) {
    return { ...base, status: 'failing', dueByMs, cause: failures(facts.recentRuns, consecutiveFailures) };
  }
  return { ...base, status: 'healthy', dueByMs, cause: undefined };
}

/** The time a success is due by, or `undefined` when the switch is off or no fire time is left. */
export function dueBy(entry: ScheduleEntry, appZone: string, horizonMs: number, facts: Pick<EntryFacts, 'lastSuccess' | 'watchedSinceMs'>): number | undefined {
  if (entry.alert.overdueAfterMs === false) return undefined;
  // A resumed or changed entry is not overdue for the fire times before (a pause's runs were not sent on purpose).
  const from = Math.max(facts.lastSuccess?.scheduledForMs ?? Number.NEGATIVE_INFINITY, facts.watchedSinceMs);
  let next: number | undefined;
  try {
    [next] = upcomingFireTimes(entry, appZone, from, 1);
  } catch {
    return undefined; // a cron with no fire time left
  }
  if (next === undefined) return undefined; // past its end date
  return next + jitterOffsetMs(entry.name, next, entry.jitterMs) + horizonMs + entry.alert.overdueAfterMs;
}

function streak(runs: readonly EntryRunFact[]): number {
  let count = 0;
  for (const run of runs) {
    if (run.state === 'dead-lettered') count += 1;
    else if (run.state === 'succeeded') break;
    // a run still going (or revoked) neither breaks nor extends the streak
  }
  return count;
}

function failures(runs: readonly EntryRunFact[], count: number): string {
  const last = runs.find((run) => run.state === 'dead-lettered');
  return `the last ${count === 1 ? 'run was' : `${count} runs were`} dead-lettered${last?.error ? `: ${last.error}` : ''}`;
}

// In order of what usually explains the others: without a leader nothing is sent; without a consumer nothing runs.
function likelyCause(entry: ScheduleEntry, appZone: string, facts: EntryFacts, consecutiveFailures: number): string {
  if (facts.beatLeader === false) return 'no beat leader: no beat replica holds the lease, so nothing is being sent';
  const newest = facts.recentRuns[0];
  const waiting = newest !== undefined && (newest.state === 'sent' || newest.state === 'received');
  if (facts.consumers === 0) return `no worker consuming the queue "${facts.queue}"${waiting ? `: the run of ${formatInZone(newest.scheduledForMs, entryZone(entry, appZone))} is waiting in it` : ''}`;
  if (consecutiveFailures > 0) return failures(facts.recentRuns, consecutiveFailures);
  const notSent = Object.entries(facts.notSent).filter(([, count]) => count > 0);
  if (notSent.length > 0) return `runs were not sent: ${notSent.map(([reason, count]) => `${count} ${reason}`).join(', ')}`;
  if (newest !== undefined && newest.state !== 'succeeded') {
    return `the last run (${formatInZone(newest.scheduledForMs, entryZone(entry, appZone))}) has not finished: it is ${newest.state}`;
  }
  if (newest === undefined) return 'no run of this entry is in the task history';
  return `no success since ${facts.lastSuccess ? formatInZone(facts.lastSuccess.finishedAtMs, entryZone(entry, appZone)) : 'the entry was created'}; nothing else explains it`;
}

/** `5m` past due, for a page. */
export function overdueBy(health: EntryHealth, nowMs: number): string {
  return health.dueByMs === undefined ? '' : formatDuration(Math.max(0, Math.round((nowMs - health.dueByMs) / 1000) * 1000));
}
