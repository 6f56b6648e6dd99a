import { ValueType, type Counter, type Histogram, type Meter } from '@nightshift/telemetry';

/**
 * The worker's instruments, as Prometheus shows them (the exporter turns dots into `_`, adds `_total` to a
 * counter and no unit suffix, so a name that Prometheus should show in seconds says so itself): `nightshift_tasks_total{task,outcome}`,
 * `nightshift_task_runtime_seconds{task}` (histogram), `nightshift_task_retries_total{task}`,
 * `nightshift_dead_letters_total{reason,task}`, `nightshift_time_limit_hits_total{task,kind}`,
 * `nightshift_duplicates_suppressed_total{task,reason}`, `nightshift_sandboxes_busy` and `nightshift_sandboxes`; the
 * completion records add `nightshift_completion_records_up` and `nightshift_completion_records_skipped_total{operation}`.
 */
export interface WorkerMetrics {
  readonly tasks: Counter;
  readonly runtime: Histogram;
  readonly retries: Counter;
  readonly deadLetters: Counter;
  readonly limitHits: Counter;
  /**
   * Deliveries acked without running, as duplicates of an attempt that finished (`reason`: `completed`), or that
   * arrived while it ran and were held until it finished (`in_flight`).
   */
  readonly duplicatesSuppressed: Counter;
}

const RUNTIME_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export function createWorkerMetrics(meter: Meter, sandboxes: () => { busy: number; total: number }): WorkerMetrics {
  const busy = meter.createObservableGauge('nightshift.sandboxes.busy', { description: 'Sandboxes running a task now', valueType: ValueType.INT });
  const total = meter.createObservableGauge('nightshift.sandboxes', { description: 'Sandboxes of this worker (its concurrency)', valueType: ValueType.INT });
  meter.addBatchObservableCallback((result) => {
    const now = sandboxes();
    result.observe(busy, now.busy);
    result.observe(total, now.total);
  }, [busy, total]);
  return {
    tasks: meter.createCounter('nightshift.tasks', { description: 'Task attempts by task and outcome (succeeded, failed, retried, dead_lettered, revoked, crashed)', valueType: ValueType.INT }),
    runtime: meter.createHistogram('nightshift.task.runtime_seconds', {
      description: 'Run time of task attempts', unit: 's', advice: { explicitBucketBoundaries: RUNTIME_BUCKETS_S },
    }),
    retries: meter.createCounter('nightshift.task.retries', { description: 'Retries scheduled, by task', valueType: ValueType.INT }),
    deadLetters: meter.createCounter('nightshift.dead_letters', { description: 'Messages dead-lettered by this worker, by reason', valueType: ValueType.INT }),
    limitHits: meter.createCounter('nightshift.time_limit.hits', { description: 'Time limits reached, by task and kind (soft, hard)', valueType: ValueType.INT }),
    duplicatesSuppressed: meter.createCounter('nightshift.duplicates_suppressed', {
      description: 'Deliveries acknowledged without running: duplicates of an attempt that had finished (reason=completed) or was running when they arrived and were held until it finished (reason=in_flight), by task', valueType: ValueType.INT,
    }),
  };
}
