import { dashboard, row, stat, table, timeseries } from '../panels.ts';

/** The scheduler: who holds the lease, how late runs go out, what was missed, what fires next, which schedules stopped working. */
export const beat = () => dashboard('nightshift-beat', 'Nightshift / Beat', 'Leader, dispatch lag, missed runs, next fire times, and schedules overdue or failing.')
  .withRow(row('Lease'))
  .withPanel(stat('Leaders', 'Beat replicas holding the lease: exactly 1 is healthy.', 'short', { expr: 'sum(nightshift_beat_leader)' }))
  .withPanel(stat('Replicas reaching Redis', 'Beat replicas that reach Redis (without it, beat sends nothing).', 'short', { expr: 'sum(nightshift_beat_redis_up)' }))
  .withPanel(timeseries('Leader by replica', '1 while a replica holds the lease; a handover shows as a swap.', 'short', [
    { expr: 'max by (replica) (nightshift_beat_leader)', legend: '{{replica}}' },
  ]))
  .withRow(row('Dispatch'))
  .withPanel(timeseries('Dispatch lag p99', 'How late runs are sent after their scheduled time, 99th percentile (5m). (runtime): every runtime entry together, when beat has more than NIGHTSHIFT_BEAT_ENTRY_LABELS of them.', 's', [
    { expr: 'nightshift:beat_dispatch_lag_seconds:p99_5m', legend: '{{entry}}' },
  ]))
  .withPanel(timeseries('Runs dispatched', 'Scheduled runs sent per second, by entry; (runtime): every runtime entry together, when beat has more than NIGHTSHIFT_BEAT_ENTRY_LABELS of them (each one\'s runs are in its schedule history).', 'ops', [
    { expr: 'sum by (entry) (rate(nightshift_beat_runs_dispatched_total[$__rate_interval]))', legend: '{{entry}}' },
  ]))
  .withPanel(timeseries('Missed runs', 'Runs not sent, by entry and reason (skipped/coalesced/over-cap: misfire policy after downtime; expired/lost-lease/unsendable: failures).', 'short', [
    { expr: 'sum by (entry, reason) (increase(nightshift_beat_runs_missed_total[$__rate_interval]))', legend: '{{entry}} {{reason}}' },
  ]))
  .withPanel(table('Next fire times', 'When each entry fires next (reported by the leader); (runtime): the soonest of the runtime entries, when they are counted together.', 'dateTimeAsIso', {
    expr: 'max by (entry) (nightshift_beat_next_fire_time) * 1000',
  }))
  // The alerter's verdicts (its schedule watch judges every entry, whether beat runs or not).
  .withRow(row('Schedules'))
  .withPanel(timeseries('Schedules overdue / failing', 'Entries past the time a success was due (overdue: the alerter pages each by name), entries whose last run was dead-lettered, and entries paused, as the alerter counted them in its last round (every entry, also those counted together as (runtime)).', 'short', [
    { expr: 'max(nightshift_schedules_overdue)', legend: 'overdue' },
    { expr: 'max(nightshift_schedules_dead_lettered)', legend: 'failing (last run dead-lettered)' },
    { expr: 'max(nightshift_schedules_paused)', legend: 'paused' },
  ]))
  // A paused, ended or removed entry's series reads NaN (OpenTelemetry never drops a series): `> 0` leaves it out.
  .withPanel(table('Time left until a success is due', 'Per entry: how long until its next success is due (negative: overdue by that much). (runtime): the earliest of the runtime entries, when the alerter has more than NIGHTSHIFT_ALERTER_ENTRY_LABELS of them (/health/background names each overdue one).', 's', {
    expr: 'max by (entry) (nightshift_schedule_due_by_timestamp_seconds > 0) - time()',
  }));
