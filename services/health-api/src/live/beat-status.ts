import type { LifecycleEvent } from '@nightshift/broker';
import { GLOBAL_DEFAULTS, type AnyApp } from '@nightshift/core';
import { compileScheduleEntries, describeSchedule, entryQueue, nextFireTime, nextFireTimes, type ScheduleEntry } from '@nightshift/schedule';
import type { BeatLease, LeaseView } from './beat-lease.ts';

/** One entry of the app's schedule, with what beat was last seen doing about it. */
export interface ScheduleEntryView {
  readonly name: string;
  readonly task: string;
  readonly schedule: string;
  /** The queue a run is sent to: the entry's `options.queue`, else the task's queue, else the app's default (as beat decides). */
  readonly queue: string;
  readonly misfire: string;
  /** ISO 8601, the next few fire times. */
  readonly nextRuns: readonly string[];
  /** ISO 8601: the scheduled time of the last run beat dispatched, as seen by this replica. */
  readonly lastScheduledFor: string | null;
  readonly lastDispatchedAt: string | null;
  readonly lastLagMs: number | null;
  /** ISO 8601: a fire time more than the grace ago that no dispatch was seen for. */
  readonly overdueSince: string | null;
}

/** What is known of beat: its leader lease in Redis and its `beat.dispatched` events. */
export interface BeatView {
  /** The replica holding the leader lease now; `null` when nobody does, or Redis cannot be read (see `lease`). */
  readonly leader: string | null;
  readonly lease: LeaseView;
  /** Whether Redis said twice in a row that nobody holds the lease. */
  readonly leaderless: boolean;
  /** The replica that sent the last dispatch seen. */
  readonly lastDispatcher: string | null;
  readonly lastDispatchAt: string | null;
  readonly lastDispatchAgeMs: number | null;
  readonly entries: readonly ScheduleEntryView[];
  /** Entries whose runs are overdue (past the grace, no dispatch seen). */
  readonly overdue: readonly string[];
}

interface Seen {
  scheduledForMs: number;
  dispatchedAtMs: number;
  lagMs: number | null;
}

/**
 * Beat as a control room sees it: the app's schedule (entries, in words, next runs), the last dispatch of
 * each entry and who sent it, and which entries are overdue. An entry's expected run is tracked from this
 * process's start, so a restart never reports runs it could not have seen.
 */
export class BeatStatus {
  readonly #entries: readonly ScheduleEntry[];
  readonly #queues = new Map<string, string>();
  readonly #zone: string;
  readonly #graceMs: number;
  readonly #seen = new Map<string, Seen>();
  /** Per entry, the newest fire time beat said it did not send (`beat.missed`): accounted for, so not overdue. */
  readonly #missedThrough = new Map<string, number>();
  readonly #expected = new Map<string, number>();
  readonly #lease: BeatLease | undefined;
  #lastDispatcher: string | null = null;
  #lastDispatchMs: number | null = null;

  constructor(app: AnyApp | undefined, graceMs: number, lease?: BeatLease, startMs = Date.now()) {
    this.#lease = lease;
    this.#entries = app ? compileScheduleEntries(app.schedule, app.tasks.map((t) => t.name)) : [];
    if (app) for (const entry of this.#entries) this.#queues.set(entry.name, entryQueue(app, entry));
    this.#zone = app?.timezone ?? 'UTC';
    this.#graceMs = graceMs;
    for (const entry of this.#entries) this.#expected.set(entry.name, nextFireTime(entry.schedule, startMs, this.#zone));
  }

  /** The last dispatch of an entry (of the code or the runtime) seen by this replica, or `undefined`. */
  lastDispatchOf(entry: string): { readonly scheduledFor: string; readonly dispatchedAt: string; readonly lagMs: number | null } | undefined {
    const seen = this.#seen.get(entry);
    return seen === undefined ? undefined : { scheduledFor: new Date(seen.scheduledForMs).toISOString(), dispatchedAt: new Date(seen.dispatchedAtMs).toISOString(), lagMs: seen.lagMs };
  }

  get scheduled(): boolean {
    return this.#entries.length > 0;
  }

  observe(event: LifecycleEvent, nowMs = Date.now()): void {
    if (event.type === 'beat.missed') return this.#observeMissed(event);
    if (event.type !== 'beat.dispatched' || typeof event.entry !== 'string') return;
    // A run now or a backfill is not the schedule's own run: it neither moves the expectation nor says beat is alive.
    if (event.origin !== undefined && event.origin !== 'schedule') return;
    const scheduledForMs = typeof event.scheduledFor === 'string' ? Date.parse(event.scheduledFor) : Number.NaN;
    const dispatchedAtMs = Date.parse(event.at) || nowMs;
    const previous = this.#seen.get(event.entry);
    if (!Number.isNaN(scheduledForMs) && (previous === undefined || scheduledForMs >= previous.scheduledForMs)) {
      this.#seen.set(event.entry, { scheduledForMs, dispatchedAtMs, lagMs: typeof event.lagMs === 'number' ? event.lagMs : null });
    }
    if (this.#lastDispatchMs === null || dispatchedAtMs >= this.#lastDispatchMs) {
      this.#lastDispatchMs = dispatchedAtMs;
      this.#lastDispatcher = typeof event.replica === 'string' ? event.replica : this.#lastDispatcher;
    }
  }

  #observeMissed(event: LifecycleEvent): void {
    if (typeof event.entry !== 'string') return;
    const through = Date.parse(typeof event.through === 'string' ? event.through : String(event.scheduledFor));
    if (!Number.isNaN(through) && through > (this.#missedThrough.get(event.entry) ?? -Infinity)) this.#missedThrough.set(event.entry, through);
  }

  view(nowMs = Date.now()): BeatView {
    const overdue: string[] = [];
    const entries = this.#entries.map((entry): ScheduleEntryView => {
      const seen = this.#seen.get(entry.name);
      const handledThrough = Math.max(seen?.scheduledForMs ?? -Infinity, this.#missedThrough.get(entry.name) ?? -Infinity);
      let expected = this.#expected.get(entry.name) ?? nextFireTime(entry.schedule, nowMs, this.#zone);
      // Runs dispatched or accounted for as missed (or due within the grace) move the expectation on; the first one missing is overdue.
      while (expected + this.#graceMs < nowMs && handledThrough >= expected) expected = nextFireTime(entry.schedule, expected, this.#zone);
      this.#expected.set(entry.name, expected);
      const late = expected + this.#graceMs < nowMs;
      if (late) overdue.push(entry.name);
      return {
        name: entry.name, task: entry.task, schedule: describeSchedule(entry.schedule, this.#zone), queue: this.#queues.get(entry.name) ?? GLOBAL_DEFAULTS.queue,
        misfire: entry.misfire.policy,
        nextRuns: nextFireTimes(entry.schedule, nowMs, this.#zone, 3).map((ms) => new Date(ms).toISOString()),
        lastScheduledFor: seen ? new Date(seen.scheduledForMs).toISOString() : null,
        lastDispatchedAt: seen ? new Date(seen.dispatchedAtMs).toISOString() : null,
        lastLagMs: seen?.lagMs ?? null,
        overdueSince: late ? new Date(expected).toISOString() : null,
      };
    });
    const lease = this.#lease?.view ?? { redisUp: false, holder: null, expiresInMs: null, checkedAt: null };
    return {
      leader: lease.redisUp ? lease.holder : null,
      lease,
      leaderless: this.#lease?.leaderless ?? false,
      lastDispatcher: this.#lastDispatcher,
      lastDispatchAt: this.#lastDispatchMs === null ? null : new Date(this.#lastDispatchMs).toISOString(),
      lastDispatchAgeMs: this.#lastDispatchMs === null ? null : nowMs - this.#lastDispatchMs,
      entries, overdue,
    };
  }
}
