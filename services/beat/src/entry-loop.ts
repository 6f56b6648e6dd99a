import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nightshift/core';
import {
  dueRuns, formatInZone, graceEnd, nextFireTime, planRuns, runsToKeep, type MissedReason, type ScheduleEntry,
} from '@nightshift/schedule';
import type { Dispatcher } from './dispatcher.ts';
import type { BeatMetrics } from './metrics.ts';
import type { RunLedger, StartState } from './run-ledger.ts';

export interface EntryLoopParts {
  readonly zone: string;
  readonly ledger: RunLedger;
  readonly dispatcher: Dispatcher;
  readonly metrics: BeatMetrics;
  readonly log: Logger;
  readonly now?: () => number;
}

/** Longest single sleep: a wall clock that jumps is noticed within this. */
const MAX_SLEEP_MS = 60_000;

/**
 * Dispatches one entry while this replica leads (until `signal` aborts or the lease is lost). Each turn
 * takes the runs that came due since the entry's watermark, lets its misfire policy choose what to send
 * (on time, that is the one run just due), sends them one after another, and sleeps until the next fire
 * time. Fire times come from the schedule alone, so lateness never accumulates.
 * @returns `'not-leader'` when Redis says the lease is no longer ours; otherwise when `signal` aborts.
 */
export async function runEntry(entry: ScheduleEntry, parts: EntryLoopParts, signal: AbortSignal): Promise<'stopped' | 'not-leader'> {
  const { zone, ledger, dispatcher, metrics, log } = parts;
  const now = parts.now ?? Date.now;
  const policy = entry.misfire;
  const nextAfter = (ms: number) => nextFireTime(entry.schedule, ms, zone);
  const started = await ledger.start(entry.name, now());
  if (started === 'not-leader') return started;
  let last = started.lastMs;
  if (started.state === 'new') log.info({ entry: entry.name }, 'entry not seen before: its runs start from now');
  // After Redis lost beat's state, the runs the misfire policy does not send are counted as lost with it.
  let stateLost = started.state === 'lost' ? reportStateLost(entry, started, { metrics, log, zone }) : false;

  while (!signal.aborted) {
    const wokeAt = now();
    const due = dueRuns(entry.schedule, last, wokeAt, zone, runsToKeep(policy));
    if (due.total > 0) {
      const plan = planRuns(due, wokeAt, policy, nextAfter);
      reportMissed(entry, plan.missed, due.atLeast, plan.send, { metrics, log, zone }, stateLost);
      stateLost = false;
      for (const run of plan.send) {
        const outcome = await dispatcher.dispatch(entry, run, graceEnd(policy, run, nextAfter(run)), signal);
        if (outcome === 'not-leader') return outcome;
        if (signal.aborted) return 'stopped';
      }
      const through = plan.through as number;
      if (plan.send.at(-1) !== through && (await ledger.advance(entry.name, through)) === 'not-leader') return 'not-leader';
      last = through;
      continue;
    }
    const next = nextAfter(Math.max(last, wokeAt));
    metrics.nextFire(entry.name, next);
    await sleepUntil(next, now, signal);
  }
  return 'stopped';
}

async function sleepUntil(atMs: number, now: () => number, signal: AbortSignal): Promise<void> {
  for (let remaining = atMs - now(); remaining > 0 && !signal.aborted; remaining = atMs - now()) {
    await sleep(Math.min(remaining, MAX_SLEEP_MS), undefined, { signal }).catch(() => {});
  }
}

interface Reporting {
  readonly metrics: BeatMetrics;
  readonly log: Logger;
  readonly zone: string;
}

function reportMissed(
  entry: ScheduleEntry,
  missed: Readonly<Partial<Record<MissedReason, number>>>,
  atLeast: boolean,
  send: readonly number[],
  { metrics, log, zone }: Reporting,
  stateLost: boolean,
): void {
  const reasons = Object.entries(missed) as [MissedReason, number][];
  if (reasons.length === 0) return;
  const total = reasons.reduce((sum, [, count]) => sum + count, 0);
  if (stateLost) metrics.missed(entry.name, 'state_lost', total);
  else for (const [reason, count] of reasons) metrics.missed(entry.name, reason, count);
  const sending = send.length === 0 ? 'sending none of them' : `sending ${send.length} (${send.map((ms) => formatInZone(ms, zone)).join(', ')})`;
  const why = stateLost ? 'while Redis was without beat\'s state' : 'while this entry was not dispatched';
  log.warn(
    { entry: entry.name, misfire: entry.misfire.policy, missed, ...(stateLost ? { reason: 'state_lost' } : {}), ...(atLeast ? { countIsLowerBound: true } : {}) },
    `${atLeast ? 'at least ' : ''}${total + send.length} runs came due ${why}; misfire '${entry.misfire.policy}': ${sending}`,
  );
}

/**
 * Says what Redis losing beat's state cost this entry. With a proven watermark nothing is lost yet: the loop
 * continues from it and its misfire policy decides (returns true, so what it does not send is counted
 * `state_lost`). Otherwise the runs after the newest watermark read (which the previous leader may or may
 * not have sent) are counted `state_lost` now, since sending them could send one twice.
 */
function reportStateLost(entry: ScheduleEntry, started: Extract<StartState, { state: 'lost' }>, { metrics, log, zone }: Reporting): boolean {
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
  metrics.missed(entry.name, 'state_lost', lost.total);
  log.warn({ ...fields, missed: lost.total, after: new Date(started.unproven).toISOString(), ...(lost.atLeast ? { countIsLowerBound: true } : {}) },
    `Redis came back without beat's state: ${lost.total} runs after ${formatInZone(started.unproven, zone)} may or may not have been sent by the previous leader; counted missed, not sent (that could send one twice); its runs continue from now`);
  return false;
}
