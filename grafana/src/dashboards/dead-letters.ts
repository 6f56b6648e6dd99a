import { dashboard, row, stat, timeseries } from '../panels.ts';

/** What failed for good, and whether anyone was paged about it. */
export const deadLetters = () => dashboard('nightshift-dead-letters', 'Nightshift / Dead letters and alerts', 'Dead letters dead-lettered, stored and pending review; alerts sent, failed and waiting in the outbox.')
  .withRow(row('Dead letters'))
  .withPanel(stat('Pending review', 'Stored dead letters nobody has requeued or ignored.', 'short', { expr: 'max(nightshift_dead_letters_pending)' }))
  .withPanel(stat('Alert outbox', 'Alerts not delivered yet.', 'short', { expr: 'max(nightshift_alert_outbox_depth)' }))
  .withPanel(stat('Oldest undelivered alert', 'Age of the oldest alert in the outbox.', 's', { expr: 'max(nightshift_alert_outbox_oldest_age_seconds)' }))
  .withPanel(timeseries('Dead-lettered by workers', 'Messages workers dead-lettered per second, by task and reason.', 'ops', [
    { expr: 'sum by (task, reason) (nightshift:dead_letters:rate5m)', legend: '{{task}} ({{reason}})' },
  ]))
  .withPanel(timeseries('Stored by the alerter', 'Dead letters stored per second, by task and reason.', 'ops', [
    { expr: 'sum by (task, reason) (rate(nightshift_dead_letters_stored_total[$__rate_interval]))', legend: '{{task}} ({{reason}})' },
  ]))
  .withRow(row('Alerts'))
  .withPanel(timeseries('Alerts sent', 'Alerts each channel took per second.', 'ops', [
    { expr: 'sum by (channel) (rate(nightshift_alerts_sent_total[$__rate_interval]))', legend: '{{channel}}' },
  ]))
  .withPanel(timeseries('Alert delivery failures', 'Failed deliveries per second by channel; the alert stays in the outbox and is retried.', 'ops', [
    { expr: 'sum by (channel) (rate(nightshift_alerts_failed_total[$__rate_interval]))', legend: '{{channel}}' },
  ]));
