import type { Logger } from '@nightshift/core';
import type { Counter, Meter } from '@nightshift/telemetry';
import { ScheduleSeries, type ScheduleGauges } from './schedule-series.ts';

/** The latest counts read from the store, for the gauges (a scrape never waits on PostgreSQL). */
export interface StoreGauges {
  pending: number | undefined;
  outboxDepth: number | undefined;
  outboxOldestAgeSeconds: number | undefined;
}

/**
 * The alerter's instruments, as Prometheus shows them: `nightshift_dead_letters_stored_total{task,reason}`,
 * `nightshift_dead_letters_pending`, `nightshift_alerts_{sent,grouped,failed}_total{channel}`, `nightshift_alert_outbox_depth`,
 * `nightshift_alert_outbox_oldest_age_seconds`; and the schedule watch's, from its last round (see `ScheduleSeries`):
 * `nightshift_schedule_last_success_timestamp_seconds{entry}`, `nightshift_schedule_due_by_timestamp_seconds{entry}`,
 * `nightshift_schedule_consecutive_failures{entry}`, `nightshift_schedules_overdue`, `nightshift_schedules_dead_lettered`,
 * `nightshift_schedules_paused`.
 */
export interface AlerterMetrics {
  readonly stored: Counter;
  readonly sent: Counter;
  readonly grouped: Counter;
  readonly failed: Counter;
  readonly gauges: StoreGauges;
  readonly schedules: ScheduleGauges;
}

/** What the alerter's metrics are told besides the meter. */
export interface AlerterMetricsOptions {
  /** `NIGHTSHIFT_ALERTER_ENTRY_LABELS`: how many runtime schedule entries may have series of their own. */
  readonly entryLabels: number;
  readonly logger: Logger;
}

export function alerterMetrics(meter: Meter, options: AlerterMetricsOptions): AlerterMetrics {
  const gauges: StoreGauges = { pending: undefined, outboxDepth: undefined, outboxOldestAgeSeconds: undefined };
  const observe = (name: string, description: string, read: () => number | undefined, unit?: string) => {
    meter.createObservableGauge(name, { description, ...(unit ? { unit } : {}) }).addCallback((result) => {
      const value = read();
      if (value !== undefined) result.observe(value);
    });
  };
  observe('nightshift.dead_letters.pending', 'Dead letters waiting for review (status pending).', () => gauges.pending);
  observe('nightshift.alert_outbox.depth', 'Alerts in the outbox not sent yet.', () => gauges.outboxDepth);
  observe('nightshift.alert_outbox.oldest_age_seconds', 'Age of the oldest alert not sent yet.', () => gauges.outboxOldestAgeSeconds, 's');
  return {
    stored: meter.createCounter('nightshift.dead_letters.stored', { description: 'Dead letters stored, by task and reason (redeliveries not counted).' }),
    sent: meter.createCounter('nightshift.alerts.sent', { description: 'Alerts a channel took, by channel.' }),
    grouped: meter.createCounter('nightshift.alerts.grouped', { description: 'Dead letters counted into an open alert group instead of paging, by channel.' }),
    failed: meter.createCounter('nightshift.alerts.failed', { description: 'Failed attempts to deliver an alert, by channel (the alert stays in the outbox).' }),
    gauges,
    schedules: new ScheduleSeries(meter, options),
  };
}
