import type { ScheduleJudgement } from '@nightshift/store';

/** How an entry is doing, as the alerter's schedule watch last judged it: what `GET /api/schedules` shows per entry. */
export interface EntryHealthView {
  /** `healthy`, `overdue` (no success by the time one was due), `failing` (runs in a row dead-lettered), `paused`, `ended`. */
  readonly status: ScheduleJudgement['status'];
  /** The most likely cause (overdue, failing). */
  readonly cause: string | null;
  /** ISO 8601: when a success is due by; `null` without a dead man's switch. */
  readonly dueBy: string | null;
  /** ISO 8601: when the last success finished. */
  readonly lastSuccess: string | null;
  readonly consecutiveFailures: number;
  /** ISO 8601: when the alerter judged it. */
  readonly judgedAt: string | null;
}

/** An entry's health view, or `null` when the alerter has not judged it (not running, or not with this app). */
export function entryHealthView(judgement: ScheduleJudgement | undefined): EntryHealthView | null {
  if (judgement === undefined) return null;
  return {
    status: judgement.status, cause: judgement.cause, dueBy: judgement.dueBy, lastSuccess: judgement.lastSuccessAt,
    consecutiveFailures: judgement.consecutiveFailures, judgedAt: judgement.judgedAt ?? null,
  };
}

/**
 * Past this, judgements are stale: the alerter stopped judging (it judges every few seconds), so /health/background
 * says the schedules' dead man's switch is not running.
 */
export const SCHEDULE_JUDGEMENT_STALE_MS = 300_000;
