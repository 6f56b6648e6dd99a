import type { Logger } from '@nightshift/core';
import { dueRuns, formatInZone, type DueRuns, type MissedReason, type RunPlan, type ScheduleEntry } from '@nightshift/schedule';
import type { BeatMetrics } from './metrics.ts';
import { missedRanges, type MissedFires } from './missed-fires.ts';
import type { StartState } from './run-ledger.ts';

/** What an entry loop reports through. */
export interface Reporting {
  readonly metrics: BeatMetrics;
  readonly missed: MissedFires;
  readonly log: Logger;
  /** The entry's zone. */
  readonly zone: string;
  /** The entry's first fire time after a moment; `undefined` past its end. */
  readonly firstAfter: (ms: number) => number | undefined;
}

/**
 * Counts and logs what a misfire plan does not send (nothing when on time). After Redis lost beat's state
 * (`stateLost`), all of it is counted `state_lost`.
 */
export function reportMisfires(entry: ScheduleEntry, due: DueRuns, plan: RunPlan, lastMs: number, reporting: Reporting, stateLost: boolean): void {
  const { missed, log, zone, firstAfter } = reporting;
  const reasons = Object.entries(plan.missed) as [MissedReason, number][];
  if (reasons.length === 0) return;
  for (const range of missedRanges(entry.misfire, due, plan, lastMs, (ms) => firstAfter(ms) ?? ms)) {
    missed.record(entry, stateLost ? { ...range, reason: 'state_lost' } : range);
  }
  const total = reasons.reduce((sum, [, count]) => sum + count, 0);
  const { send } = plan;
  const sending = send.length === 0 ? 'sending none of them' : `sending ${send.length} (${send.map((ms) => formatInZone(ms, zone)).join(', ')})`;
  const why = stateLost ? 'while Redis was without beat\'s state' : 'while this entry was not dispatched';
  log.warn(
    { entry: entry.name, misfire: entry.misfire.policy, missed: plan.missed, ...(stateLost ? { reason: 'state_lost' } : {}), ...(due.atLeast ? { countIsLowerBound: true } : {}) },
    `${due.atLeast ? 'at least ' : ''}${total + send.length} runs came due ${why}; misfire '${entry.misfire.policy}': ${sending}`,
  );
}

/**
 * Says what Redis losing beat's state cost this entry. With a proven watermark nothing is lost yet: the loop
 * continues from it and its misfire policy decides (returns true, so what it does not send is counted
 * `state_lost`). Otherwise the runs after the newest watermark read (which the previous leader may or may
 * not have sent) are counted `state_lost` now, since sending them could send one twice.
 */
export function reportStateLost(entry: ScheduleEntry, started: Extract<StartState, { state: 'lost' }>, reporting: Reporting): boolean {
  const { missed, log, zone, firstAfter } = reporting;
  const fields = { entry: entry.name, reason: 'state_lost' };
  if (started.proven !== undefined) {
    log.warn({ ...fields, lastRun: new Date(started.proven).toISOString() },
      `Redis came back without beat's state (restarted without persistence, or flushed): continuing from the last run this replica sent, ${formatInZone(started.proven, zone)}`);
    return true;
  }
  if (started.unproven === undefined) {
    log.error(fields, 'Redis came back without beat\'s state and no run of this entry is known here: runs before now cannot be accounted for; its runs start from now');
    return false;
  }
  const lost = dueRuns(entry.schedule, started.unproven, started.lastMs, zone, 1);
  const newest = lost.newest.at(-1);
  if (newest !== undefined) missed.record(entry, { reason: 'state_lost', from: firstAfter(started.unproven) ?? newest, through: newest, count: lost.total });
  log.warn({ ...fields, missed: lost.total, after: new Date(started.unproven).toISOString(), ...(lost.atLeast ? { countIsLowerBound: true } : {}) },
    `Redis came back without beat's state: ${lost.total} runs after ${formatInZone(started.unproven, zone)} may or may not have been sent by the previous leader; counted missed, not sent (that could send one twice); its runs continue from now`);
  return false;
}
