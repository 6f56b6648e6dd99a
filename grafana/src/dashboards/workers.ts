import { dashboard, queueVariable, row, stat, timeseries } from '../panels.ts';

/** The worker fleet: who is up, how full the sandboxes are, who is killed at a hard limit. */
export const workers = () => dashboard('nightshift-workers', 'Nightshift / Workers and sandboxes', 'Workers up, sandbox usage, hard time limit kills and queue consumers.')
  .withVariable(queueVariable())
  .withRow(row('Workers'))
  .withPanel(stat('Workers online', 'Workers that sent a heartbeat recently (health-api).', 'short', { expr: 'max(nightshift_workers_online)' }))
  .withPanel(stat('Sandboxes busy', 'Share of all sandboxes running a task now.', 'percentunit', { expr: 'nightshift:sandboxes_busy:ratio' }))
  .withPanel(timeseries('Worker targets', '1 while Prometheus scrapes a worker process.', 'short', [
    { expr: 'up{job="nightshift-worker"}', legend: '{{instance}}' },
  ]))
  .withPanel(timeseries('Sandboxes', 'Busy and total sandboxes per worker.', 'short', [
    { expr: 'sum by (instance) (nightshift_sandboxes_busy)', legend: '{{instance}} busy' },
    { expr: 'sum by (instance) (nightshift_sandboxes)', legend: '{{instance}} total' },
  ]))
  .withRow(row('Kills and consumers'))
  .withPanel(timeseries('Hard time limit kills', 'Sandboxes terminated at a task\'s hard time limit, by task.', 'short', [
    { expr: 'sum by (task) (increase(nightshift_time_limit_hits_total{kind="hard"}[$__rate_interval]))', legend: '{{task}}' },
  ]))
  .withPanel(timeseries('Queue consumers', 'Consumers of each task queue ($queue); 0 with a backlog means no worker serves it.', 'short', [
    { expr: 'max by (queue) (nightshift_queue_consumers{queue=~"$queue"})', legend: '{{queue}}' },
  ]))
  .withPanel(timeseries('Health', 'The health-api\'s checks: 0 healthy, 1 degraded, 2 critical.', 'short', [
    { expr: 'max by (check) (nightshift_health_status)', legend: '{{check}}' },
  ]));
