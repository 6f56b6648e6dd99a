import { redact } from '@nightshift/telemetry';
import type { AlertLinks, AlertOptions } from './alert.ts';

/**
 * What the alerter says about a schedule entry: it is `overdue` (no success by the time one was due), `failing`
 * (runs in a row dead-lettered), was `paused` by the alerter after failing, had runs `missed` (not sent), `recovered`
 * (succeeded again), is `flapping` (bad again soon after it recovered), or is `steady` again after flapping.
 */
export type ScheduleAlertEvent = 'overdue' | 'failing' | 'paused' | 'missed' | 'recovered' | 'flapping' | 'steady';

/** One schedule message. Plain JSON, redacted when built. */
export interface ScheduleAlert {
  readonly kind: 'schedule';
  readonly event: ScheduleAlertEvent;
  readonly entry: string;
  readonly task: string;
  /** The queue its runs go to, when known. */
  readonly queue: string | null;
  /** The entry's health when this was written: `healthy`, `overdue`, `failing`, `paused`. */
  readonly status: string;
  /** The most likely cause the alerter can see (overdue, failing). */
  readonly cause: string | null;
  /** ISO 8601. */
  readonly lastSuccessAt: string | null;
  readonly dueBy: string | null;
  readonly consecutiveFailures: number;
  /** The error of the newest dead-lettered run. */
  readonly lastError: string | null;
  /** Fire times not sent (missed): how many, by reason, from and through (ISO 8601). */
  readonly missed: { readonly count: number; readonly reasons: Readonly<Record<string, number>>; readonly from: string; readonly through: string } | null;
  /** The alerter paused the entry with this message (`alert.pauseAfterFailures`). */
  readonly pausedByAlerter: boolean;
  /** What happened, in a sentence or two (for flapping: what the alerter does now). */
  readonly detail: string;
  /** ISO 8601: when the alerter wrote it. */
  readonly at: string;
  readonly links: AlertLinks;
}

/** The fields of a schedule alert, before redaction and links. */
export type ScheduleAlertSource = Omit<ScheduleAlert, 'kind' | 'links'>;

/** Builds a schedule alert: cause, error and detail redacted (they may quote a task's error), the schedule's dashboard page linked. */
export function scheduleAlert(source: ScheduleAlertSource, options: AlertOptions = {}): ScheduleAlert {
  const clean = (text: string | null) => (text === null ? null : (redact(text, options.redaction) as string));
  return {
    kind: 'schedule',
    ...source,
    cause: clean(source.cause),
    lastError: clean(source.lastError),
    detail: clean(source.detail) ?? '',
    links: options.dashboardUrl ? { dashboard: `${options.dashboardUrl.replace(/\/+$/, '')}/schedules/${encodeURIComponent(source.entry)}` } : {},
  };
}

/** The headline of a schedule alert. */
export function scheduleTitle(alert: ScheduleAlert): string {
  const name = `schedule ${alert.entry}`;
  const failures = `${alert.consecutiveFailures} run${alert.consecutiveFailures === 1 ? '' : 's'} in a row dead-lettered`;
  switch (alert.event) {
    case 'overdue': return clip(`${name} is overdue: ${alert.cause ?? 'no success by the time one was due'}`);
    case 'failing': return `${name} is failing: ${failures}${alert.pausedByAlerter ? '; paused it' : ''}`;
    case 'paused': return `${name} paused by the alerter after ${failures}`;
    case 'missed': return `${name}: ${alert.missed?.count ?? 0} run${alert.missed?.count === 1 ? '' : 's'} not sent (${reasons(alert.missed?.reasons ?? {})})`;
    case 'recovered': return `${name} recovered: it succeeded again`;
    case 'flapping': return `${name} is flapping: ${alert.status} again soon after it recovered`;
    case 'steady': return alert.status === 'healthy' ? `${name} is steady again: healthy` : clip(`${name} is steady, and ${alert.status}: ${alert.cause ?? ''}`);
  }
}

/** The body as plain text lines (email, log). */
export function scheduleLines(alert: ScheduleAlert): string[] {
  const missed = alert.missed;
  return [
    alert.detail,
    '',
    `Schedule:      ${alert.entry} (task ${alert.task}${alert.queue ? `, queue ${alert.queue}` : ''})`,
    `Status:        ${alert.status}`,
    `Last success:  ${alert.lastSuccessAt ?? 'none seen'}`,
    ...(alert.dueBy ? [`Expected by:   ${alert.dueBy}`] : []),
    ...(alert.cause ? [`Likely cause:  ${alert.cause}`] : []),
    ...(alert.consecutiveFailures > 0 ? [`Failures:      ${alert.consecutiveFailures} in a row`] : []),
    ...(alert.lastError ? [`Last error:    ${alert.lastError}`] : []),
    ...(missed ? [`Not sent:      ${missed.count} (${reasons(missed.reasons)}), fire times ${missed.from} … ${missed.through}`] : []),
    ...(alert.links.dashboard ? [`Dashboard:     ${alert.links.dashboard}`] : []),
    '',
    `Its runs: nightshift schedule history ${alert.entry}${alert.pausedByAlerter || alert.status === 'paused' ? `; once fixed: nightshift schedule resume ${alert.entry}` : ''}`,
  ];
}

function reasons(counts: Readonly<Record<string, number>>): string {
  return Object.entries(counts).filter(([, n]) => n > 0).map(([reason, n]) => `${n} ${reason}`).join(', ');
}

function clip(text: string): string {
  return text.length <= 200 ? text : `${text.slice(0, 199)}…`;
}
