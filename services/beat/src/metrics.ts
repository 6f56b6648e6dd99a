import type { Logger } from '@nightshift/core';
import { ValueType, type Counter, type Histogram, type Meter } from '@nightshift/telemetry';
import { raiseEntryLabels, RUNTIME_ENTRIES_LABEL, type MissedReason } from '@nightshift/schedule';

/**
 * Why beat did not send a run: a misfire policy's reasons, or beat's own. `state_lost`: Redis came back without
 * beat's state, and the run was neither sent by the misfire policy nor provably sent before. `paused`: the entry
 * was paused when it came due. `overlap`: the entry's last run had not finished (overlap `skip`, or a run already
 * waiting for `buffer-one`).
 */
export type MissReason = MissedReason | 'lost-lease' | 'unsendable' | 'stopped' | 'state_lost' | 'paused' | 'overlap';

/** Dispatch lag buckets in seconds: milliseconds matter when on time, minutes when catching up. */
const LAG_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];


/** What beat's metrics are told besides the meter. */
export interface BeatMetricsOptions {
  readonly replica: string;
  /** The names of the app's entries: each always has its own series. */
  readonly codeEntries: readonly string[];
  /**
   * How many runtime entries may have their own series (`NIGHTSHIFT_BEAT_ENTRY_LABELS`). Once the leader has more,
   * every runtime entry is counted as `entry="(runtime)"`, said once in the log.
   */
  readonly entryLabels: number;
  readonly log: Logger;
}

/**
 * Beat's metrics (Prometheus names after the exporter): `nightshift_beat_runs_dispatched_total{entry,task}`,
 * `nightshift_beat_dispatch_lag{entry}` (seconds, histogram), `nightshift_beat_runs_missed_total{entry,reason}`,
 * `nightshift_beat_leader{replica}` (1/0), `nightshift_beat_redis_up{replica}` (1/0) and
 * `nightshift_beat_next_fire_time{entry}` (Unix seconds).
 *
 * The `entry` label is the entry's name for the app's entries, and for runtime entries while the leader has at most
 * `entryLabels` of them. With more, every runtime entry is `entry="(runtime)"` (the dispatched runs still by `task`;
 * the next fire time the soonest of them) until beat restarts; a runtime entry named before (one added past the
 * bound while dispatching) keeps its last values. Why: with @opentelemetry/sdk-metrics 3.1, a metric takes at most
 * 2,000 attribute sets between two scrapes, the rest going into one `otel_metric_overflow="true"` series (a busy
 * boundary of 2,500 runs puts 501 there), while the cumulative series it has ever seen are all kept and exported:
 * 100,000 runtime entries measured 84 MB of the leader's heap and a 156 MB scrape taking 12 s (about 20 Prometheus
 * series an entry with the lag's buckets). Each runtime entry's runs are in its schedule history (PostgreSQL) instead.
 */
export class BeatMetrics {
  readonly #dispatched: Counter;
  readonly #lag: Histogram;
  readonly #missed: Counter;
  readonly #nextFire = new Map<string, number>();
  readonly #code: ReadonlySet<string>;
  readonly #entryLabels: number;
  readonly #log: Logger;
  /** Runtime entries in `#nextFire`: those the leader has scheduled. */
  #runtimeScheduled = 0;
  /** Set once the leader has had more runtime entries than `entryLabels`; for the life of the process, so no series flaps. */
  #runtimeTogether = false;
  #leader = 0;
  #redisUp = 0;

  constructor(meter: Meter, options: BeatMetricsOptions) {
    const { replica } = options;
    this.#code = new Set(options.codeEntries);
    this.#entryLabels = options.entryLabels;
    this.#log = options.log;
    this.#dispatched = meter.createCounter('nightshift.beat.runs.dispatched', { description: 'Scheduled runs beat sent (broker-confirmed), by entry.' });
    this.#lag = meter.createHistogram('nightshift.beat.dispatch.lag', {
      description: 'Dispatch lag: when beat published a run minus its scheduled time, in seconds.', unit: 's', advice: { explicitBucketBoundaries: LAG_BUCKETS },
    });
    this.#missed = meter.createCounter('nightshift.beat.runs.missed', { description: 'Scheduled runs beat did not send, by entry and reason.' });
    meter.createObservableGauge('nightshift.beat.leader', { description: 'Whether this beat replica holds the lease and dispatches (1) or waits (0).', valueType: ValueType.INT })
      .addCallback((result) => result.observe(this.#leader, { replica }));
    meter.createObservableGauge('nightshift.beat.redis.up', { description: 'Whether this beat replica reaches Redis (1) or not (0); it sends nothing without it.', valueType: ValueType.INT })
      .addCallback((result) => result.observe(this.#redisUp, { replica }));
    meter.createObservableGauge('nightshift.beat.next_fire_time', { description: 'The next fire time of each entry, in Unix seconds (while leader).', unit: 's' })
      .addCallback((result) => {
        let soonestRuntime = Number.POSITIVE_INFINITY;
        for (const [entry, ms] of this.#nextFire) {
          if (this.#label(entry) === entry) result.observe(ms / 1000, { entry });
          else soonestRuntime = Math.min(soonestRuntime, ms);
        }
        if (soonestRuntime !== Number.POSITIVE_INFINITY) result.observe(soonestRuntime / 1000, { entry: RUNTIME_ENTRIES_LABEL });
      });
  }

  dispatched(entry: string, task: string, lagMs: number): void {
    const label = this.#label(entry);
    this.#dispatched.add(1, { entry: label, task });
    this.#lag.record(Math.max(0, lagMs) / 1000, { entry: label });
  }

  missed(entry: string, reason: MissReason, count = 1): void {
    if (count > 0) this.#missed.add(count, { entry: this.#label(entry), reason });
  }

  leader(isLeader: boolean): void {
    this.#leader = isLeader ? 1 : 0;
    if (!isLeader) {
      this.#nextFire.clear();
      this.#runtimeScheduled = 0;
    }
  }

  redisUp(up: boolean): void {
    this.#redisUp = up ? 1 : 0;
  }

  nextFire(entry: string, atMs: number | undefined): void {
    const runtime = !this.#code.has(entry);
    if (atMs === undefined) {
      if (this.#nextFire.delete(entry) && runtime) this.#runtimeScheduled -= 1;
      return;
    }
    if (this.#nextFire.has(entry) || !runtime) {
      this.#nextFire.set(entry, atMs);
      return;
    }
    this.#nextFire.set(entry, atMs);
    this.#runtimeScheduled += 1;
    this.runtimeEntries(this.#runtimeScheduled);
  }

  /**
   * How many runtime entries the leader dispatches: told by a new leader before it starts them, so that none of
   * them gets a series of its own only to see it stop when the count passes `entryLabels` a moment later.
   */
  runtimeEntries(count: number): void {
    if (this.#runtimeTogether || count <= this.#entryLabels) return;
    this.#runtimeTogether = true;
    const raise = raiseEntryLabels('NIGHTSHIFT_BEAT_ENTRY_LABELS', count, 'restart beat');
    this.#log.info({ runtimeEntries: count, entryLabels: this.#entryLabels, label: RUNTIME_ENTRIES_LABEL },
      `beat has ${count} runtime schedule entries, more than NIGHTSHIFT_BEAT_ENTRY_LABELS (${this.#entryLabels}): its metrics count them all together as `
      + `entry="${RUNTIME_ENTRIES_LABEL}" until it restarts; each entry's runs are in its schedule history (nightshift schedule history <name>, the dashboard); ${raise}`);
  }

  #label(entry: string): string {
    return this.#runtimeTogether && !this.#code.has(entry) ? RUNTIME_ENTRIES_LABEL : entry;
  }
}
