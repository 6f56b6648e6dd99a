import { dashboard, queueVariable, row, stat, timeseries } from '../panels.ts';

/** Is Nightshift healthy right now: throughput, failures, backlog, workers, dead letters. */
export const overview = () => dashboard('nightshift-overview', 'Nightshift / Overview', 'Throughput by outcome, failure rate, backlog, workers and dead letters.')
  .withVariable(queueVariable())
  .withRow(row('Now'))
  .withPanel(stat('Workers online', 'Workers that sent a heartbeat recently (health-api).', 'short', { expr: 'max(nightshift_workers_online)' }))
  .withPanel(stat('Worker targets up', 'Worker processes Prometheus scrapes successfully.', 'short', { expr: 'nightshift:workers_up:sum' }))
  .withPanel(stat('Dead letters pending review', 'Stored dead letters nobody has requeued or ignored yet.', 'short', { expr: 'max(nightshift_dead_letters_pending)' }))
  .withPanel(stat('Failure rate (5m)', 'Share of attempts retried, dead-lettered or crashed.', 'percentunit', {
    expr: 'sum(nightshift:task_failures:rate5m) / sum(nightshift:task_attempts:rate5m)',
  }))
  .withRow(row('Work'))
  .withPanel(timeseries('Throughput by outcome', 'Task attempts per second, by outcome.', 'ops', [
    { expr: 'sum by (outcome) (nightshift:tasks:rate5m)', legend: '{{outcome}}' },
  ]))
  .withPanel(timeseries('Failure rate by task', 'Share of each task\'s attempts that failed (5m).', 'percentunit', [
    { expr: 'nightshift:task_failures:ratio_rate5m', legend: '{{task}}' },
  ]))
  .withPanel(timeseries('Backlog', 'Messages ready in each task queue ($queue).', 'short', [
    { expr: 'max by (queue) (nightshift_queue_depth{queue=~"$queue"})', legend: '{{queue}}' },
  ]))
  .withPanel(timeseries('Dead letters', 'Messages dead-lettered per second, by task and reason.', 'ops', [
    { expr: 'sum by (task, reason) (nightshift:dead_letters:rate5m)', legend: '{{task}} ({{reason}})' },
  ]));
