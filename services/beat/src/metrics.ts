import { ValueType, type Counter, type Histogram, type Meter } from '@nightshift/telemetry';
import type { MissedReason } from '@nightshift/schedule';

/**
 * Why beat did not send a run: a misfire policy's reasons, or beat's own. `state_lost`: Redis came back without
 * beat's state, and the run was neither sent by the misfire policy nor provably sent before. `paused`: the entry
 * was paused when it came due. `overlap`: the entry's last run had not finished (overlap `skip`, or a run already
 * waiting for `buffer-one`).
 */
export type MissReason = MissedReason | 'lost-lease' | 'unsendable' | 'stopped' | 'state_lost' | 'paused' | 'overlap';

/** Dispatch lag buckets in seconds: milliseconds matter when on time, minutes when catching up. */
const LAG_BUCKETS = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * Beat's metrics (Prometheus names after the exporter): `nightshift_beat_runs_dispatched_total{entry,task}`,
 * `nightshift_beat_dispatch_lag{entry}` (seconds, histogram), `nightshift_beat_runs_missed_total{entry,reason}`,
 * `nightshift_beat_leader{replica}` (1/0), `nightshift_beat_redis_up{replica}` (1/0) and
 * `nightshift_beat_next_fire_time{entry}` (Unix seconds).
 */
export class BeatMetrics {
  readonly #dispatched: Counter;
  readonly #lag: Histogram;
  readonly #missed: Counter;
  readonly #nextFire = new Map<string, number>();
  #leader = 0;
  #redisUp = 0;

  constructor(meter: Meter, replica: string) {
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
        for (const [entry, ms] of this.#nextFire) result.observe(ms / 1000, { entry });
      });
  }

  dispatched(entry: string, task: string, lagMs: number): void {
    this.#dispatched.add(1, { entry, task });
    this.#lag.record(Math.max(0, lagMs) / 1000, { entry });
  }

  missed(entry: string, reason: MissReason, count = 1): void {
    if (count > 0) this.#missed.add(count, { entry, reason });
  }

  leader(isLeader: boolean): void {
    this.#leader = isLeader ? 1 : 0;
    if (!isLeader) this.#nextFire.clear();
  }

  redisUp(up: boolean): void {
    this.#redisUp = up ? 1 : 0;
  }

  nextFire(entry: string, atMs: number | undefined): void {
    if (atMs === undefined) this.#nextFire.delete(entry);
    else this.#nextFire.set(entry, atMs);
  }
}
