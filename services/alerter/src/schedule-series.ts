import type { Logger } from '@nightshift/core';
import { raiseEntryLabels, RUNTIME_ENTRIES_LABEL, type EntryHealth, type EntryKind } from '@nightshift/schedule';
import type { Meter, ObservableResult } from '@nightshift/telemetry';

/** One schedule entry as a round of the schedule watch judged it. */
export interface JudgedEntry {
  readonly name: string;
  readonly source: EntryKind;
  readonly health: EntryHealth;
}

/** What the schedule watch tells the gauges after each round (a scrape never waits on PostgreSQL). */
export interface ScheduleGauges {
  judged(entries: readonly JudgedEntry[], paused: number): void;
}

export interface ScheduleSeriesOptions {
  /** `NIGHTSHIFT_ALERTER_ENTRY_LABELS`: how many runtime entries may have a series of their own. */
  readonly entryLabels: number;
  readonly logger: Logger;
}

/**
 * The schedule watch's gauges: `nightshift_schedule_last_success_timestamp_seconds{entry}`,
 * `nightshift_schedule_due_by_timestamp_seconds{entry}` (while a success is due: the switch on, not paused or ended),
 * `nightshift_schedule_consecutive_failures{entry}`, and the counts `nightshift_schedules_overdue`,
 * `nightshift_schedules_dead_lettered` (last run dead-lettered) and `nightshift_schedules_paused`.
 *
 * The `entry` label is the entry's name for the app's entries, and for runtime entries while the alerter has given
 * at most `entryLabels` of them a series since it started. Past that, for the life of the process (so no series
 * flaps), every runtime entry is counted together as `entry="(runtime)"`, said once in the log: the earliest due-by
 * of them (so `NightshiftScheduleOverdue` fires while any is overdue, by as much as the most overdue), the latest
 * success of any, the longest failure streak. The alerter's own pages still name each entry. Why: with
 * @opentelemetry/sdk-metrics 3.1 an observable gauge keeps every attribute set it was ever given, with its last
 * value, and takes 1,999 of them for the life of the process, the rest going into one `otel_metric_overflow="true"`
 * series. So a series never leaves by itself: one whose entry is no longer due (paused, ended, removed, or now
 * counted together) is given NaN, which no alert or panel takes for a time, instead of keeping a due-by that would
 * page for a paused entry.
 */
export class ScheduleSeries implements ScheduleGauges {
  readonly #entryLabels: number;
  readonly #logger: Logger;
  readonly #lastSuccess = new EntryGauge();
  readonly #dueBy = new EntryGauge();
  readonly #failures = new EntryGauge();
  /** Runtime entries given a series of their own since the start: the bound counts these, as OpenTelemetry keeps them all. */
  readonly #named = new Set<string>();
  /** Set once more runtime entries than `entryLabels` would have had a series; for the life of the process. */
  #together = false;
  #overdue: number | undefined;
  #deadLettered: number | undefined;
  #paused: number | undefined;

  constructor(meter: Meter, options: ScheduleSeriesOptions) {
    this.#entryLabels = options.entryLabels;
    this.#logger = options.logger;
    const gauge = (name: string, description: string, entries: EntryGauge, unit?: string) => {
      meter.createObservableGauge(name, { description, ...(unit ? { unit } : {}) }).addCallback((result) => entries.observe(result));
    };
    const count = (name: string, description: string, read: () => number | undefined) => {
      meter.createObservableGauge(name, { description }).addCallback((result) => {
        const value = read();
        if (value !== undefined) result.observe(value);
      });
    };
    gauge('nightshift.schedule.last_success_timestamp_seconds', `When each schedule entry last succeeded (Unix seconds), as the alerter judged it; ${RUNTIME_ENTRIES_LABEL}: the latest of the runtime entries counted together.`, this.#lastSuccess, 's');
    gauge('nightshift.schedule.due_by_timestamp_seconds', `When each schedule entry's next success is due by (Unix seconds): past it, the entry is overdue; ${RUNTIME_ENTRIES_LABEL}: the earliest of the runtime entries counted together.`, this.#dueBy, 's');
    gauge('nightshift.schedule.consecutive_failures', `Runs of each schedule entry in a row that ended in a dead letter; ${RUNTIME_ENTRIES_LABEL}: the longest streak of the runtime entries counted together.`, this.#failures);
    count('nightshift.schedules.overdue', 'Schedule entries the alerter judged overdue in its last round.', () => this.#overdue);
    count('nightshift.schedules.dead_lettered', 'Schedule entries whose last run ended in a dead letter.', () => this.#deadLettered);
    count('nightshift.schedules.paused', 'Schedule entries paused.', () => this.#paused);
  }

  judged(entries: readonly JudgedEntry[], paused: number): void {
    this.#paused = paused;
    this.#overdue = entries.filter((e) => e.health.status === 'overdue').length;
    this.#deadLettered = entries.filter((e) => e.health.consecutiveFailures > 0).length;
    const runtime = entries.filter((e) => e.source === 'runtime');
    if (!this.#together) {
      const unnamed = runtime.filter((e) => !this.#named.has(e.name)).length;
      if (this.#named.size + unnamed > this.#entryLabels) this.#countTogether(this.#named.size + unnamed, runtime.length);
      else for (const e of runtime) this.#named.add(e.name);
    }
    const own = this.#together ? entries.filter((e) => e.source === 'code') : entries;
    const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
    const lastSuccess = new Map<string, number>();
    const dueBy = new Map<string, number>();
    const failures = new Map<string, number>();
    for (const { name, health } of own) {
      setDefined(lastSuccess, name, seconds(health.lastSuccessMs));
      setDefined(dueBy, name, seconds(health.dueByMs));
      failures.set(name, health.consecutiveFailures);
    }
    if (this.#together && runtime.length > 0) {
      const healths = runtime.map((e) => e.health);
      setDefined(lastSuccess, RUNTIME_ENTRIES_LABEL, seconds(extreme(healths.map((h) => h.lastSuccessMs), Math.max)));
      setDefined(dueBy, RUNTIME_ENTRIES_LABEL, seconds(extreme(healths.map((h) => h.dueByMs), Math.min)));
      failures.set(RUNTIME_ENTRIES_LABEL, healths.reduce((longest, h) => Math.max(longest, h.consecutiveFailures), 0));
    }
    this.#lastSuccess.set(lastSuccess);
    this.#dueBy.set(dueBy);
    this.#failures.set(failures);
  }

  #countTogether(count: number, watched: number): void {
    this.#together = true;
    const raise = raiseEntryLabels('NIGHTSHIFT_ALERTER_ENTRY_LABELS', count, 'restart the alerter');
    this.#logger.info({ runtimeEntries: count, watched, entryLabels: this.#entryLabels, label: RUNTIME_ENTRIES_LABEL },
      `the alerter has watched ${count} runtime schedule entries, more than NIGHTSHIFT_ALERTER_ENTRY_LABELS (${this.#entryLabels}): its schedule metrics count them all together as `
      + `entry="${RUNTIME_ENTRIES_LABEL}" until it restarts (the earliest due-by, so NightshiftScheduleOverdue still fires); its pages and /health/background still name each overdue entry; ${raise}`);
  }
}

/**
 * One gauge's value per `entry` label from the last round. A label observed once is observed on every scrape from
 * then on, NaN when it has no value: OpenTelemetry would otherwise export its last value for good.
 */
class EntryGauge {
  #values: ReadonlyMap<string, number> = new Map();
  readonly #shown = new Set<string>();

  set(values: ReadonlyMap<string, number>): void {
    this.#values = values;
    for (const label of values.keys()) this.#shown.add(label);
  }

  observe(result: ObservableResult): void {
    for (const entry of this.#shown) result.observe(this.#values.get(entry) ?? Number.NaN, { entry });
  }
}

function setDefined(map: Map<string, number>, key: string, value: number | undefined): void {
  if (value !== undefined) map.set(key, value);
}

function extreme(values: readonly (number | undefined)[], pick: (a: number, b: number) => number): number | undefined {
  const defined = values.filter((v): v is number => v !== undefined);
  return defined.length === 0 ? undefined : defined.reduce((a, b) => pick(a, b));
}
