import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nightshift/core';
import {
  dueRuns, formatInZone, graceEnd, nextFireTime, planRuns, runsToKeep, type MissedReason, type ScheduleEntry,
} from '@nightshift/schedule';
import type { Dispatcher } from './dispatcher.ts';
import type { BeatMetrics } from './metrics.ts';
import type { RunLedger } from './run-ledger.ts';

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
  if (started.isNew) log.info({ entry: entry.name }, 'entry not seen before: its runs start from now');

  while (!signal.aborted) {
    const wokeAt = now();
    const due = dueRuns(entry.schedule, last, wokeAt, zone, runsToKeep(policy));
    if (due.total > 0) {
      const plan = planRuns(due, wokeAt, policy, nextAfter);
      reportMissed(entry, plan.missed, due.atLeast, plan.send, { metrics, log, zone });
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

function reportMissed(
  entry: ScheduleEntry,
  missed: Readonly<Partial<Record<MissedReason, number>>>,
  atLeast: boolean,
  send: readonly number[],
  { metrics, log, zone }: { metrics: BeatMetrics; log: Logger; zone: string },
): void {
  const reasons = Object.entries(missed) as [MissedReason, number][];
  if (reasons.length === 0) return;
  for (const [reason, count] of reasons) metrics.missed(entry.name, reason, count);
  const total = reasons.reduce((sum, [, count]) => sum + count, 0);
  const sending = send.length === 0 ? 'sending none of them' : `sending ${send.length} (${send.map((ms) => formatInZone(ms, zone)).join(', ')})`;
  log.warn(
    { entry: entry.name, misfire: entry.misfire.policy, missed, ...(atLeast ? { countIsLowerBound: true } : {}) },
    `${atLeast ? 'at least ' : ''}${total + send.length} runs came due while this entry was not dispatched; misfire '${entry.misfire.policy}': ${sending}`,
  );
}
