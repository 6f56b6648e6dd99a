import type { Counter, Meter } from '@nightshift/telemetry';
import type { ScheduleGauges } from './schedule-watch/schedule-watch.ts';

/** The latest counts read from the store, for the gauges (a scrape never waits on PostgreSQL). */
export interface StoreGauges {
  pending: number | undefined;
  outboxDepth: number | undefined;
  outboxOldestAgeSeconds: number | undefined;
}

/**
 * The alerter's instruments, as Prometheus shows them: `nightshift_dead_letters_stored_total{task,reason}`,
 * `nightshift_dead_letters_pending`, `nightshift_alerts_{sent,grouped,failed}_total{channel}`, `nightshift_alert_outbox_depth`,
 * `nightshift_alert_outbox_oldest_age_seconds`; and the schedule watch's, from its last round:
 * `nightshift_schedule_last_success_timestamp_seconds{entry}`, `nightshift_schedule_due_by_timestamp_seconds{entry}` (while a
 * success is due: the switch on, not paused or ended), `nightshift_schedule_consecutive_failures{entry}`, `nightshift_schedules_paused`.
 */
export interface AlerterMetrics {
  readonly stored: Counter;
  readonly sent: Counter;
  readonly grouped: Counter;
  readonly failed: Counter;
  readonly gauges: StoreGauges;
  readonly schedules: ScheduleGauges;
}

type EntryHealthLike = { readonly lastSuccessMs: number | undefined; readonly dueByMs: number | undefined; readonly consecutiveFailures: number };

export function alerterMetrics(meter: Meter): AlerterMetrics {
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
  const schedules: ScheduleGauges = { entries: new Map(), paused: undefined };
  const perEntry = (name: string, description: string, read: (health: EntryHealthLike) => number | undefined, unit?: string) => {
    meter.createObservableGauge(name, { description, ...(unit ? { unit } : {}) }).addCallback((result) => {
      for (const [entry, health] of schedules.entries) {
        const value = read(health);
        if (value !== undefined) result.observe(value, { entry });
      }
    });
  };
  const seconds = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);
  perEntry('nightshift.schedule.last_success_timestamp_seconds', 'When each schedule entry last succeeded (Unix seconds), as the alerter judged it.', (h) => seconds(h.lastSuccessMs), 's');
  perEntry('nightshift.schedule.due_by_timestamp_seconds', 'When each schedule entry\'s next success is due by (Unix seconds): past it, the entry is overdue.', (h) => seconds(h.dueByMs), 's');
  perEntry('nightshift.schedule.consecutive_failures', 'Runs of each schedule entry in a row that ended in a dead letter.', (h) => h.consecutiveFailures);
  observe('nightshift.schedules.paused', 'Schedule entries paused.', () => schedules.paused);
  return {
    stored: meter.createCounter('nightshift.dead_letters.stored', { description: 'Dead letters stored, by task and reason (redeliveries not counted).' }),
    sent: meter.createCounter('nightshift.alerts.sent', { description: 'Alerts a channel took, by channel.' }),
    grouped: meter.createCounter('nightshift.alerts.grouped', { description: 'Dead letters counted into an open alert group instead of paging, by channel.' }),
    failed: meter.createCounter('nightshift.alerts.failed', { description: 'Failed attempts to deliver an alert, by channel (the alert stays in the outbox).' }),
    gauges,
    schedules,
  };
}
