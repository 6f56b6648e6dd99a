import type { Histogram, Meter } from '@nightshift/telemetry';
import { STATUS_LEVEL, type HealthStatus } from './health.ts';
import type { Snapshot } from './live/state-poller.ts';

/** What the gauges read at scrape time: set by the parts that know (a scrape never waits on the broker or the database). */
export interface GaugeSources {
  snapshot(): Snapshot;
  workersOnline(): number;
  health(): { workers: HealthStatus; background: HealthStatus };
}

/**
 * The health-api's instruments, as Prometheus shows them: `nightshift_queue_depth{queue}`,
 * `nightshift_queue_consumers{queue}`, `nightshift_workers_online`, `nightshift_recorder_lag` (seconds, histogram; event
 * time to row committed), `nightshift_history_events_recorded_total`, `nightshift_history_rows`,
 * `nightshift_health_status{check}` (0 healthy, 1 degraded, 2 critical).
 */
export interface HealthApiMetrics {
  readonly recorderLag: Histogram;
  recorded(events: number, lagsMs: readonly number[]): void;
}

export function healthApiMetrics(meter: Meter, sources: GaugeSources): HealthApiMetrics {
  meter.createObservableGauge('nightshift.queue.depth', { description: 'Messages ready in a task queue, from the last poll.' }).addCallback((result) => {
    for (const queue of sources.snapshot().queues.values()) if (queue.depth !== null) result.observe(queue.depth, { queue: queue.name });
  });
  meter.createObservableGauge('nightshift.queue.consumers', { description: 'Consumers of a task queue, from the last poll.' }).addCallback((result) => {
    for (const queue of sources.snapshot().queues.values()) if (queue.consumers !== null) result.observe(queue.consumers, { queue: queue.name });
  });
  meter.createObservableGauge('nightshift.workers.online', { description: 'Workers that sent a heartbeat or answered a ping recently.' }).addCallback((result) => {
    result.observe(sources.workersOnline());
  });
  meter.createObservableGauge('nightshift.history.rows', { description: 'Task runs in the history table (estimated beyond 100,000).' }).addCallback((result) => {
    const rows = sources.snapshot().historyRows;
    if (rows !== null) result.observe(rows);
  });
  meter.createObservableGauge('nightshift.health.status', { description: 'Health: 0 healthy, 1 degraded, 2 critical, by check.' }).addCallback((result) => {
    const health = sources.health();
    result.observe(STATUS_LEVEL[health.workers], { check: 'workers' });
    result.observe(STATUS_LEVEL[health.background], { check: 'background' });
  });
  const recorderLag = meter.createHistogram('nightshift.recorder.lag', {
    description: 'From an event\'s time to its row committed in the history, in seconds.', unit: 's',
    advice: { explicitBucketBoundaries: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] },
  });
  const recordedTotal = meter.createCounter('nightshift.history.events_recorded', { description: 'Task events committed to the history.' });
  return {
    recorderLag,
    recorded(events, lagsMs) {
      recordedTotal.add(events);
      for (const lag of lagsMs) recorderLag.record(Math.max(0, lag) / 1000);
    },
  };
}
