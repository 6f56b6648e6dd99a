import { dashboard, row, table, taskVariable, timeseries } from '../panels.ts';

/** One task at a time (or several): rate, runtime percentiles, retries, time limits. */
export const tasks = () => dashboard('nightshift-tasks', 'Nightshift / Tasks', 'Per task: rate by outcome, runtime percentiles, retries and time limit hits.')
  .withVariable(taskVariable())
  .withRow(row('Rate'))
  .withPanel(timeseries('Attempts by outcome', 'Attempts per second of $task, by outcome.', 'ops', [
    { expr: 'sum by (task, outcome) (nightshift:tasks:rate5m{task=~"$task"})', legend: '{{task}} {{outcome}}' },
  ]))
  .withPanel(timeseries('Failure ratio', 'Share of $task\'s attempts that were retried, dead-lettered or crashed.', 'percentunit', [
    { expr: 'nightshift:task_failures:ratio_rate5m{task=~"$task"}', legend: '{{task}}' },
  ]))
  .withRow(row('Runtime'))
  .withPanel(timeseries('Runtime percentiles', 'p50, p95 and p99 run time of $task\'s attempts (5m).', 's', [
    { expr: 'nightshift:task_runtime_seconds:p50_5m{task=~"$task"}', legend: '{{task}} p50' },
    { expr: 'nightshift:task_runtime_seconds:p95_5m{task=~"$task"}', legend: '{{task}} p95' },
    { expr: 'nightshift:task_runtime_seconds:p99_5m{task=~"$task"}', legend: '{{task}} p99' },
  ]))
  .withPanel(timeseries('Mean runtime', 'Mean run time of $task\'s attempts.', 's', [
    { expr: 'sum by (task) (rate(nightshift_task_runtime_seconds_sum{task=~"$task"}[$__rate_interval])) / sum by (task) (rate(nightshift_task_runtime_seconds_count{task=~"$task"}[$__rate_interval]))', legend: '{{task}}' },
  ]))
  .withRow(row('Retries and limits'))
  .withPanel(timeseries('Retries', 'Retries scheduled per second for $task.', 'ops', [
    { expr: 'nightshift:task_retries:rate5m{task=~"$task"}', legend: '{{task}}' },
  ]))
  .withPanel(timeseries('Time limit hits', 'Soft and hard time limits reached per second by $task.', 'ops', [
    { expr: 'nightshift:time_limit_hits:rate5m{task=~"$task"}', legend: '{{task}} {{kind}}' },
  ]))
  .withPanel(table('Time limit hits in range', 'Soft and hard limit hits of $task over the dashboard\'s time range.', 'short', {
    expr: 'sum by (task, kind) (increase(nightshift_time_limit_hits_total{task=~"$task"}[$__range]))',
  }));
