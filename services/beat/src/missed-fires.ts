import type { Broker } from '@nightshift/broker';
import { publishEvent } from '@nightshift/broker';
import { runsToKeep, type DueRuns, type MisfirePolicy, type RunPlan, type ScheduleEntry } from '@nightshift/schedule';
import type { BeatMetrics, MissReason } from './metrics.ts';

/**
 * The fate of a fire not sent, as the schedule's history keeps it (`schedule_fires.state`): `misfire` (its misfire
 * policy did not send it), `expired` (its grace ended before the broker took it), `paused`, `overlap`,
 * `state_lost` (Redis lost beat's state, and sending it could have sent it twice), `unsent` (claimed, then beat
 * could not send it: the lease ran out, beat stopped, or the message cannot be sent).
 */
export type FireFate = 'misfire' | 'expired' | 'paused' | 'overlap' | 'state_lost' | 'unsent';

const FATES: Readonly<Record<MissReason, FireFate>> = Object.freeze({
  skipped: 'misfire', coalesced: 'misfire', 'over-cap': 'misfire', expired: 'expired', paused: 'paused', overlap: 'overlap',
  state_lost: 'state_lost', 'lost-lease': 'unsent', unsendable: 'unsent', stopped: 'unsent',
});

/** Consecutive fire times not sent for one reason: `from` through `through` (ms), `count` of them. */
export interface MissedRange {
  readonly reason: MissReason;
  readonly from: number;
  readonly through: number;
  readonly count: number;
}

/**
 * Every fire not sent is counted in `nightshift_beat_runs_missed_total{entry,reason}` and announced as a
 * `beat.missed` event `{ entry, task, scheduledFor, through, count, reason, detail, replica, origin }`, where
 * `reason` is the fire's fate (`FireFate`) and `detail` beat's own reason (the metric's label).
 */
export class MissedFires {
  readonly #metrics: BeatMetrics;
  readonly #broker: Broker;
  readonly #replica: string;

  constructor(metrics: BeatMetrics, broker: Broker, replica: string) {
    this.#metrics = metrics;
    this.#broker = broker;
    this.#replica = replica;
  }

  record(entry: ScheduleEntry, range: MissedRange): void {
    if (range.count <= 0) return;
    this.#metrics.missed(entry.name, range.reason, range.count);
    void publishEvent(this.#broker, 'beat.missed', {
      entry: entry.name, task: entry.task, origin: 'schedule',
      scheduledFor: new Date(range.from).toISOString(), through: new Date(range.through).toISOString(), count: range.count,
      reason: FATES[range.reason], detail: range.reason, replica: this.#replica,
    });
  }
}

/**
 * Which fire times of `(lastMs, plan.through]` a misfire plan does not send, as ranges by reason (pure). A plan
 * sends some of the newest fire times (those it keeps, `runsToKeep`), so the rest are older: `skipped` for
 * `'skip'`, `coalesced` for `'once'`, `over-cap` for `'all'`; a kept one not sent is `expired` (its grace
 * ended), or `skipped` for `'skip'`.
 * @param due from `dueRuns(…, keep = runsToKeep(policy) + 1)`: one fire time more than the plan keeps, the
 *   newest of those it never looked at.
 * @param firstAfter the first fire time after a moment (the schedule's `nextFireTime`).
 */
export function missedRanges(policy: MisfirePolicy, due: DueRuns, plan: RunPlan, lastMs: number, firstAfter: (ms: number) => number): MissedRange[] {
  if (plan.through === undefined || due.total === 0) return [];
  const keep = runsToKeep(policy);
  const kept = due.newest.slice(-keep);
  const older = due.total - kept.length;
  const olderReason = OLDER_REASON[policy.policy];
  const ranges: MissedRange[] = [];
  if (older > 0) ranges.push({ reason: olderReason, from: firstAfter(lastMs), through: due.newest.at(-keep - 1) as number, count: older });
  const sent = new Set(plan.send);
  for (const at of kept) {
    if (sent.has(at)) continue;
    const reason: MissReason = policy.policy === 'skip' ? 'skipped' : 'expired';
    const previous = ranges.at(-1);
    if (previous?.reason === reason && firstAfter(previous.through) === at) ranges[ranges.length - 1] = { ...previous, through: at, count: previous.count + 1 };
    else ranges.push({ reason, from: at, through: at, count: 1 });
  }
  return ranges;
}

const OLDER_REASON: Readonly<Record<MisfirePolicy['policy'], MissReason>> = Object.freeze({ skip: 'skipped', once: 'coalesced', all: 'over-cap' });
