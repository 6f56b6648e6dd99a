import { metrics, ValueType, type Counter, type Histogram } from '@nightshift/telemetry';

/** The worker's instruments. Names become `nightshift_tasks_total`, `nightshift_task_runtime_seconds`, … in Prometheus. */
export interface WorkerMetrics {
  readonly tasks: Counter;
  readonly runtime: Histogram;
  readonly retries: Counter;
  readonly deadLetters: Counter;
  readonly limitHits: Counter;
}

const RUNTIME_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export function createWorkerMetrics(sandboxes: () => { busy: number; total: number }): WorkerMetrics {
  const meter = metrics.getMeter('@nightshift/worker');
  const busy = meter.createObservableGauge('nightshift_sandboxes_busy', { description: 'Sandboxes running a task now', valueType: ValueType.INT });
  const total = meter.createObservableGauge('nightshift_sandboxes', { description: 'Sandboxes of this worker (its concurrency)', valueType: ValueType.INT });
  meter.addBatchObservableCallback((result) => {
    const now = sandboxes();
    result.observe(busy, now.busy);
    result.observe(total, now.total);
  }, [busy, total]);
  return {
    tasks: meter.createCounter('nightshift_tasks', { description: 'Task attempts by task and outcome (succeeded, failed, retried, dead_lettered, revoked, crashed)', valueType: ValueType.INT }),
    runtime: meter.createHistogram('nightshift_task_runtime_seconds', {
      description: 'Run time of task attempts', unit: 's', advice: { explicitBucketBoundaries: RUNTIME_BUCKETS_S },
    }),
    retries: meter.createCounter('nightshift_task_retries', { description: 'Retries scheduled, by task', valueType: ValueType.INT }),
    deadLetters: meter.createCounter('nightshift_dead_letters', { description: 'Messages dead-lettered by this worker, by reason', valueType: ValueType.INT }),
    limitHits: meter.createCounter('nightshift_time_limit_hits', { description: 'Time limits reached, by task and kind (soft, hard)', valueType: ValueType.INT }),
  };
}
