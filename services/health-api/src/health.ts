import type { HealthThresholds } from './config.ts';
import { SCHEDULE_JUDGEMENT_STALE_MS } from './schedule-health.ts';
import type { BeatView } from './live/beat-status.ts';
import type { QueueView, Snapshot } from './live/state-poller.ts';
import type { WorkerView } from './live/worker-registry.ts';

/** healthy and degraded answer 200 (degraded with its reasons); critical answers 503. */
export type HealthStatus = 'healthy' | 'degraded' | 'critical';

/** The gauge value of a status: 0 healthy, 1 degraded, 2 critical. */
export const STATUS_LEVEL: Readonly<Record<HealthStatus, number>> = Object.freeze({ healthy: 0, degraded: 1, critical: 2 });

export interface WorkersHealth {
  readonly status: 'healthy' | 'critical';
  readonly online: number;
  readonly workers: readonly { readonly name: string; readonly active: number; readonly reserved: number; readonly lastSeen: string }[];
  readonly reason?: string;
}

export interface BackgroundHealth {
  readonly status: HealthStatus;
  /** Why it is not healthy, one sentence each. */
  readonly reasons: readonly string[];
  readonly workers: { readonly online: number; readonly offline: number };
  readonly queues: readonly Pick<QueueView, 'name' | 'depth' | 'consumers'>[];
  readonly deadLettersPending: number | null;
  /** The window's outcomes; the rate is judged only once `succeeded + failed` reaches `minRuns`. */
  readonly failureRate: { readonly windowMs: number; readonly rate: number | null; readonly succeeded: number; readonly failed: number; readonly minRuns: number } | null;
  readonly beat: { readonly leader: string | null; readonly redisUp: boolean; readonly lastDispatchAgeMs: number | null; readonly overdue: readonly string[] };
  /**
   * The schedule entries the alerter judged overdue or failing, and when it last judged (`null`: never, e.g. no
   * alerter runs). Only overdue entries make the status degraded.
   */
  readonly schedules: { readonly overdue: readonly string[]; readonly failing: readonly string[]; readonly judgedAt: string | null };
  readonly checkedAt: string | null;
}

/** Whether any worker answered recently (a heartbeat or a ping within 3 heartbeats). */
export function workersHealth(online: readonly WorkerView[], heartbeatMs: number): WorkersHealth {
  const workers = online.map((w) => ({ name: w.name, active: w.active, reserved: w.reserved, lastSeen: w.lastSeen }));
  if (online.length > 0) return { status: 'healthy', online: online.length, workers };
  return { status: 'critical', online: 0, workers, reason: `no worker has sent a heartbeat or answered a ping in the last ${Math.round((heartbeatMs * 3) / 1000)}s` };
}

/** The state of background work as a whole, judged against the thresholds. */
export function backgroundHealth(snapshot: Snapshot, workers: readonly WorkerView[], beat: BeatView, beatScheduled: boolean, thresholds: HealthThresholds, heartbeatMs: number, nowMs = Date.now()): BackgroundHealth {
  const critical: string[] = [];
  const degraded: string[] = [];
  const online = workers.filter((w) => w.status === 'online');
  if (online.length === 0) critical.push(workersHealth(online, heartbeatMs).reason ?? 'no worker online');
  if (!snapshot.brokerUp) critical.push('RabbitMQ is not reachable');
  if (!snapshot.storeUp) degraded.push('PostgreSQL is not reachable: history and dead letters are not current');
  const queues = [...snapshot.queues.values()];
  for (const queue of queues) {
    if (queue.depth !== null && queue.depth > thresholds.backlog) degraded.push(`queue ${queue.name} has ${queue.depth} messages waiting (threshold ${thresholds.backlog})`);
    if (queue.depth !== null && queue.depth > 0 && queue.consumers === 0) degraded.push(`queue ${queue.name} has ${queue.depth} messages waiting and no consumer`);
  }
  const pending = snapshot.deadLettersPending;
  if (pending !== null && thresholds.deadLetters > 0 && pending >= thresholds.deadLetters) degraded.push(`${pending} dead letter${pending === 1 ? '' : 's'} pending review`);
  const window = snapshot.window;
  // A handful of runs (a user trying a failing task) is too small a sample to call background work broken.
  if (window !== null && window.failureRate !== null && window.succeeded + window.failed >= thresholds.minRuns) {
    const percent = (ratio: number) => `${Math.round(ratio * 100)}%`;
    const sample = `${percent(window.failureRate)} of ${window.succeeded + window.failed} runs failed in the last ${Math.round(thresholds.windowMs / 1000)}s`;
    if (window.failureRate >= thresholds.failureRateCritical) critical.push(`${sample} (critical at ${percent(thresholds.failureRateCritical)})`);
    else if (window.failureRate >= thresholds.failureRate) degraded.push(`${sample} (degraded at ${percent(thresholds.failureRate)})`);
  }
  if (beatScheduled && beat.lease.checkedAt !== null && !beat.lease.redisUp) degraded.push('beat: Redis is not reachable, so no beat replica can lead: scheduled runs are not being sent');
  else if (beatScheduled && beat.leaderless) degraded.push('beat: no replica holds the leader lease: scheduled runs are not being sent (is beat running?)');
  if (beatScheduled && beat.overdue.length > 0) degraded.push(`beat: no dispatch seen for ${beat.overdue.join(', ')} (due more than ${Math.round(thresholds.beatGraceMs / 1000)}s ago)`);
  const schedules = scheduleHealth(snapshot, nowMs);
  degraded.push(...schedules.reasons);
  const status: HealthStatus = critical.length > 0 ? 'critical' : degraded.length > 0 ? 'degraded' : 'healthy';
  return {
    status,
    reasons: [...critical, ...degraded],
    workers: { online: online.length, offline: workers.length - online.length },
    queues: queues.map((q) => ({ name: q.name, depth: q.depth, consumers: q.consumers })),
    deadLettersPending: pending,
    failureRate: window === null ? null : { windowMs: thresholds.windowMs, rate: window.failureRate, succeeded: window.succeeded, failed: window.failed, minRuns: thresholds.minRuns },
    beat: { leader: beat.leader, redisUp: beat.lease.redisUp, lastDispatchAgeMs: beat.lastDispatchAgeMs, overdue: beat.overdue },
    schedules: schedules.summary,
    checkedAt: snapshot.polledAt,
  };
}

/** What the alerter's judgements say: a reason per overdue entry, and one when it stopped judging. */
function scheduleHealth(snapshot: Snapshot, nowMs: number): { reasons: string[]; summary: BackgroundHealth['schedules'] } {
  const judgements = [...(snapshot.schedules?.values() ?? [])];
  const judgedAt = judgements.reduce<string | null>((newest, j) => (j.judgedAt !== undefined && (newest === null || j.judgedAt > newest) ? j.judgedAt : newest), null);
  // A judgement that is not renewed is not current (its entry may be gone, or judged by no alerter any more).
  const current = judgements.filter((j) => j.judgedAt !== undefined && nowMs - Date.parse(j.judgedAt) <= SCHEDULE_JUDGEMENT_STALE_MS);
  const overdue = current.filter((j) => j.status === 'overdue');
  const reasons = overdue.map((j) => `schedule ${j.entry} is overdue: ${j.cause ?? 'no success by the time one was due'} (a success was due by ${j.dueBy ?? 'earlier'})`);
  if (judgedAt !== null && nowMs - Date.parse(judgedAt) > SCHEDULE_JUDGEMENT_STALE_MS) {
    reasons.push(`schedules: the alerter last judged them ${Math.round((nowMs - Date.parse(judgedAt)) / 60_000)} min ago, so no overdue schedule is paged (is the alerter running?)`);
  }
  return { reasons, summary: { overdue: overdue.map((j) => j.entry), failing: current.filter((j) => j.status === 'failing').map((j) => j.entry), judgedAt } };
}
