import { ConfigError, formatDuration, parseDuration, type Duration } from '@nightshift/core';
import type { DueRuns } from './schedule.ts';

/**
 * What beat does with runs whose time passed while it could not send them (downtime, a lease handover,
 * a broker outage): `'skip'` waits for the next time, `'once'` sends one run for all that were missed,
 * `'all'` sends each, up to a cap.
 */
export type MisfirePolicyName = 'skip' | 'once' | 'all';

/** A schedule entry's `misfire`: a policy name, or the policy with its grace and cap. */
export type MisfireInput = MisfirePolicyName | {
  readonly policy: MisfirePolicyName;
  /**
   * How late a run may still be sent; a run later than this is counted and logged as missed. It also
   * bounds how long a run is retried while the broker is down. Default: `'1s'` for `'skip'`; until the
   * run after it is due for `'once'`; no limit for `'all'`.
   */
  readonly grace?: Duration;
  /** `'all'` only: the most missed runs sent after one downtime (the newest ones). Default: `10`. */
  readonly cap?: number;
};

/** A compiled misfire policy. */
export interface MisfirePolicy {
  readonly policy: MisfirePolicyName;
  /** Milliseconds; `undefined` means the policy's default rule (see `MisfireInput.grace`). */
  readonly graceMs: number | undefined;
  readonly cap: number;
}

export const DEFAULT_MISFIRE: MisfirePolicyName = 'once';
export const DEFAULT_SKIP_GRACE_MS = 1_000;
export const DEFAULT_ALL_CAP = 10;
const POLICIES: readonly MisfirePolicyName[] = ['skip', 'once', 'all'];

/**
 * Reads an entry's `misfire` (default `'once'`).
 * @throws ConfigError naming the entry and what is wrong.
 */
export function compileMisfire(input: unknown, where: string): MisfirePolicy {
  const value = input ?? DEFAULT_MISFIRE;
  const object = typeof value === 'object' && value !== null ? value as { policy?: unknown; grace?: unknown; cap?: unknown } : undefined;
  const policy = object ? object.policy : value;
  if (typeof policy !== 'string' || !(POLICIES as readonly string[]).includes(policy)) {
    throw new ConfigError(`${where}: misfire ${JSON.stringify(policy)} must be 'skip', 'once' or 'all'`, { field: 'misfire' });
  }
  const unknown = object ? Object.keys(object).find((key) => !['policy', 'grace', 'cap'].includes(key)) : undefined;
  if (unknown !== undefined) throw new ConfigError(`${where}: unknown misfire field ${JSON.stringify(unknown)} (fields: policy, grace, cap)`, { field: 'misfire' });
  const graceMs = object?.grace === undefined ? (policy === 'skip' ? DEFAULT_SKIP_GRACE_MS : undefined) : parseDuration(object.grace as Duration, `${where} misfire.grace`);
  if (object?.cap !== undefined && policy !== 'all') throw new ConfigError(`${where}: misfire.cap only applies to policy 'all'`, { field: 'misfire' });
  const cap = object?.cap ?? DEFAULT_ALL_CAP;
  if (typeof cap !== 'number' || !Number.isInteger(cap) || cap < 1) throw new ConfigError(`${where}: misfire.cap ${JSON.stringify(cap)} must be a whole number ≥ 1`, { field: 'misfire' });
  if (object !== undefined) return Object.freeze({ policy: policy as MisfirePolicyName, graceMs, cap });
  // A policy named alone is the same for every entry: 100,000 runtime entries share three objects.
  let shared = BY_NAME.get(policy);
  if (shared === undefined) BY_NAME.set(policy, (shared = Object.freeze({ policy: policy as MisfirePolicyName, graceMs, cap })));
  return shared;
}

const BY_NAME = new Map<string, MisfirePolicy>();

/** How many of the newest due runs a plan needs to see: `cap` for `'all'`, else the newest one. */
export function runsToKeep(policy: MisfirePolicy): number {
  return policy.policy === 'all' ? policy.cap : 1;
}

/**
 * The last moment run `scheduledForMs` may be sent.
 * @param nextFireMs the fire time after this run (the default grace of `'once'` ends there).
 */
export function graceEnd(policy: MisfirePolicy, scheduledForMs: number, nextFireMs: number): number {
  if (policy.graceMs !== undefined) return scheduledForMs + policy.graceMs;
  return policy.policy === 'all' ? Number.POSITIVE_INFINITY : nextFireMs;
}

/** Why a run was not sent. `coalesced`: folded into the one run `'once'` sent for them. */
export type MissedReason = 'skipped' | 'coalesced' | 'over-cap' | 'expired';

/** What to do with the runs that came due since the last run beat handled. */
export interface RunPlan {
  /** Fire times to send now, oldest first. */
  readonly send: readonly number[];
  /** How many runs are not sent, by reason. */
  readonly missed: Readonly<Partial<Record<MissedReason, number>>>;
  /** The newest due fire time: once this plan is carried out, every run up to it is handled. */
  readonly through: number | undefined;
}

/**
 * Applies a misfire policy. Pure: `due` comes from `dueRuns(…, keep = runsToKeep(policy))` and
 * `nextFireAfter` from the schedule.
 * - `'skip'`: only the newest run, and only if it is within its grace (default 1s); the rest are skipped.
 * - `'once'`: the newest run stands for all of them, if within its grace; the others are coalesced.
 * - `'all'`: each run, oldest first, at most `cap` (the newest); older ones are over the cap.
 */
export function planRuns(due: DueRuns, nowMs: number, policy: MisfirePolicy, nextFireAfter: (ms: number) => number): RunPlan {
  const newest = due.newest.at(-1);
  if (newest === undefined || due.total === 0) return { send: [], missed: {}, through: undefined };
  const inGrace = (at: number) => nowMs <= graceEnd(policy, at, nextFireAfter(at));
  const missed: Partial<Record<MissedReason, number>> = {};
  const count = (reason: MissedReason, n: number) => {
    if (n > 0) missed[reason] = (missed[reason] ?? 0) + n;
  };
  let send: number[];
  switch (policy.policy) {
    case 'skip':
      send = inGrace(newest) ? [newest] : [];
      count('skipped', due.total - send.length);
      break;
    case 'once':
      send = inGrace(newest) ? [newest] : [];
      if (send.length === 0) count('expired', 1);
      count('coalesced', due.total - 1);
      break;
    case 'all': {
      const candidates = due.newest.slice(-policy.cap);
      send = candidates.filter(inGrace);
      count('expired', candidates.length - send.length);
      count('over-cap', due.total - candidates.length);
      break;
    }
  }
  return { send, missed, through: newest };
}

/** The policy in words, for `schedule explain`: `once (grace 10m)`. */
export function describeMisfire(policy: MisfirePolicy): string {
  const grace = policy.graceMs === undefined
    ? (policy.policy === 'all' ? 'no grace limit' : 'grace until the next run')
    : `grace ${formatDuration(policy.graceMs)}`;
  return policy.policy === 'all' ? `all (cap ${policy.cap}, ${grace})` : `${policy.policy} (${grace})`;
}
