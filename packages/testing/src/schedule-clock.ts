import { parseDuration, type AnyApp, type Duration } from '@nightshift/core';
import { compileScheduleEntries, dueRuns, nextFireTime, planRuns, runsToKeep, type ScheduleEntry } from '@nightshift/schedule';

/** One run beat would send. */
export interface ScheduledRun {
  readonly entry: string;
  readonly task: string;
  readonly args: readonly unknown[];
  /** ISO 8601: the fire time the run stands for. */
  readonly scheduledFor: string;
  /** ISO 8601: when beat sends it (later than `scheduledFor` only after downtime). */
  readonly sentAt: string;
}

/**
 * Beat's decisions under a clock you move: which runs of the app's schedule are sent, and when. It makes
 * them with the same pure functions beat uses (`dueRuns`, `planRuns` with each entry's misfire policy),
 * without Redis, a broker or waiting. Like a first deploy, entries start at `start`.
 */
export class ScheduleClock {
  readonly #entries: readonly ScheduleEntry[];
  readonly #zone: string;
  readonly #last = new Map<string, number>();
  #now: number;

  constructor(app: AnyApp, start: Date | string) {
    this.#entries = compileScheduleEntries(app.schedule, app.tasks.map((t) => t.name));
    this.#zone = app.timezone;
    this.#now = new Date(start).getTime();
    if (Number.isNaN(this.#now)) throw new RangeError(`ScheduleClock: ${String(start)} is not a time`);
    for (const entry of this.#entries) this.#last.set(entry.name, this.#now);
  }

  get now(): Date {
    return new Date(this.#now);
  }

  /** Beat runs throughout: every run due in the next `duration` is sent at its own time. */
  advance(duration: Duration): ScheduledRun[] {
    const until = this.#now + parseDuration(duration, 'advance');
    const runs: ScheduledRun[] = [];
    for (const entry of this.#entries) {
      let last = this.#last.get(entry.name) as number;
      for (let at = nextFireTime(entry.schedule, last, this.#zone); at <= until; at = nextFireTime(entry.schedule, at, this.#zone)) {
        runs.push(run(entry, at, at));
        last = at;
      }
      this.#last.set(entry.name, last);
    }
    this.#now = until;
    return sortByTime(runs);
  }

  /** Beat is down for `duration` and starts again: what its misfire policies send at that moment. */
  downtime(duration: Duration): ScheduledRun[] {
    const wokeAt = this.#now + parseDuration(duration, 'downtime');
    const runs: ScheduledRun[] = [];
    for (const entry of this.#entries) {
      const last = this.#last.get(entry.name) as number;
      const due = dueRuns(entry.schedule, last, wokeAt, this.#zone, runsToKeep(entry.misfire));
      if (due.total === 0) continue;
      const plan = planRuns(due, wokeAt, entry.misfire, (ms) => nextFireTime(entry.schedule, ms, this.#zone));
      for (const at of plan.send) runs.push(run(entry, at, wokeAt));
      if (plan.through !== undefined) this.#last.set(entry.name, plan.through);
    }
    this.#now = wokeAt;
    return sortByTime(runs);
  }

  toString(): string {
    return `ScheduleClock(${this.now.toISOString()}, ${this.#entries.length} entries, zone ${this.#zone})`;
  }
}

function run(entry: ScheduleEntry, scheduledFor: number, sentAt: number): ScheduledRun {
  return { entry: entry.name, task: entry.task, args: entry.args, scheduledFor: new Date(scheduledFor).toISOString(), sentAt: new Date(sentAt).toISOString() };
}

function sortByTime(runs: ScheduledRun[]): ScheduledRun[] {
  return runs.sort((a, b) => a.sentAt.localeCompare(b.sentAt) || a.scheduledFor.localeCompare(b.scheduledFor) || a.entry.localeCompare(b.entry));
}
