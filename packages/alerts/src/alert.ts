import { redact, type RedactOptions } from '@nightshift/telemetry';
import type { ScheduleAlert } from './schedule-alert.ts';

/** The page for one dead letter: the first of its group. Plain JSON, redacted when built. */
export interface PageAlert {
  readonly kind: 'page';
  readonly deadLetterId: string;
  readonly task: string;
  readonly queue: string | null;
  readonly reason: string;
  readonly error: { readonly class: string; readonly code: string | null; readonly message: string; readonly stack: string | null };
  readonly attempts: number | null;
  readonly worker: string | null;
  /** JSON text of the args and kwargs, secrets redacted, cut to a readable length. */
  readonly args: string;
  readonly kwargs: string;
  readonly firstFailedAt: string | null;
  readonly lastFailedAt: string;
  readonly traceId: string | null;
  /**
   * W3C `traceparent` of the span that stored the dead letter and enqueued this page: each channel's delivery
   * span is its child, so the page shows in the task's trace. Absent when the alerter does not trace.
   */
  readonly traceparent?: string;
  readonly links: AlertLinks;
}

/** "…and N more": the dead letters of a group counted during one window. */
export interface SummaryAlert {
  readonly kind: 'summary';
  readonly task: string;
  readonly errorClass: string;
  readonly count: number;
  /** Dead letters since the group opened, the first page included. */
  readonly total: number;
  readonly since: string;
  readonly until: string;
  readonly lastMessage: string | null;
  readonly firstDeadLetterId: string;
  readonly lastDeadLetterId: string;
  readonly links: AlertLinks;
}

export type Alert = PageAlert | SummaryAlert | ScheduleAlert;

export interface AlertLinks {
  /** The dead letter (page) or the task's dead letters (summary) on the dashboard. */
  readonly dashboard?: string;
  readonly trace?: string;
}

/** What alerts are built with. */
export interface AlertOptions {
  /** Keys and values to redact, on top of `DEFAULT_REDACT_KEYS`. Default: the defaults only. */
  readonly redaction?: RedactOptions;
  /** Base URL of the dashboard (`NIGHTSHIFT_DASHBOARD_URL`); links are left out without it. */
  readonly dashboardUrl?: string;
  /** Base URL of the trace viewer (`NIGHTSHIFT_TRACE_URL`): `{traceId}` in it is replaced, else the id is appended. */
  readonly traceUrl?: string;
}

/** The fields of a dead letter a page is built from (a `DeadLetterInput` of the store fits). */
export interface PageSource {
  readonly task?: string;
  readonly queue?: string;
  readonly reason: string;
  readonly detail?: string;
  readonly error?: { readonly name: string; readonly message: string; readonly code?: string; readonly stack?: string };
  readonly attempts?: number;
  readonly worker?: string;
  readonly args?: readonly unknown[];
  readonly kwargs?: Readonly<Record<string, unknown>>;
  readonly firstFailedAt?: string;
  readonly lastFailedAt: string;
  readonly traceId?: string;
}

const MAX_ARGS_CHARS = 1_000;
const MAX_STACK_LINES = 8;

/** Alerts are grouped by (task, error class): one burst of the same failure is one page and one summary. */
export function alertGroup(source: Pick<PageSource, 'task' | 'reason' | 'error'>): { key: string; task: string; errorClass: string } {
  const task = source.task ?? '(unknown task)';
  const errorClass = source.error?.name ?? source.reason;
  return { key: `${task}|${errorClass}`, task, errorClass };
}

/** Builds the page of a dead letter, with every secret redacted. */
export function pageAlert(deadLetterId: string, source: PageSource, options: AlertOptions = {}): PageAlert {
  const clean = <T>(value: T): T => redact(value, options.redaction) as T;
  const { errorClass, task } = alertGroup(source);
  const message = source.error?.message ?? source.detail ?? `dead-lettered: ${source.reason}`;
  const stack = source.error?.stack?.split('\n').slice(0, MAX_STACK_LINES).join('\n') ?? null;
  const traceLink = source.traceId !== undefined ? traceLinkFor(options.traceUrl, source.traceId) : undefined;
  return {
    kind: 'page',
    deadLetterId,
    task: clean(task),
    queue: source.queue ?? null,
    reason: source.reason,
    error: { class: errorClass, code: source.error?.code ?? null, message: clean(message), stack: stack === null ? null : clean(stack) },
    attempts: source.attempts ?? null,
    worker: source.worker ?? null,
    args: shorten(JSON.stringify(clean(source.args ?? []))),
    kwargs: shorten(JSON.stringify(clean(source.kwargs ?? {}))),
    firstFailedAt: source.firstFailedAt ?? null,
    lastFailedAt: source.lastFailedAt,
    traceId: source.traceId ?? null,
    links: {
      ...(options.dashboardUrl ? { dashboard: joinUrl(options.dashboardUrl, `dead-letters/${deadLetterId}`) } : {}),
      ...(traceLink ? { trace: traceLink } : {}),
    },
  };
}

/** The fields of a closed alert window (the store's `ClosedAlertWindow` fits). */
export interface SummarySource {
  readonly task: string;
  readonly errorClass: string;
  readonly count: number;
  readonly total: number;
  readonly windowStartedAt: string;
  readonly lastMessage: string | null;
  readonly firstDeadLetterId: string;
  readonly lastDeadLetterId: string;
}

/** Builds the summary sent when a group's window closes with more dead letters counted. */
export function summaryAlert(window: SummarySource, options: AlertOptions = {}, now = new Date()): SummaryAlert {
  return {
    kind: 'summary',
    task: window.task,
    errorClass: window.errorClass,
    count: window.count,
    total: window.total,
    since: window.windowStartedAt,
    until: now.toISOString(),
    lastMessage: window.lastMessage === null ? null : redact(window.lastMessage, options.redaction),
    firstDeadLetterId: window.firstDeadLetterId,
    lastDeadLetterId: window.lastDeadLetterId,
    links: options.dashboardUrl ? { dashboard: joinUrl(options.dashboardUrl, `dead-letters?task=${encodeURIComponent(window.task)}&status=pending`) } : {},
  };
}

/** Reads an alert back from the outbox; `undefined` for anything that is not one. */
export function readAlert(value: Readonly<Record<string, unknown>>): Alert | undefined {
  return value.kind === 'page' || value.kind === 'summary' || value.kind === 'schedule' ? (value as unknown as Alert) : undefined;
}

function traceLinkFor(base: string | undefined, traceId: string): string | undefined {
  if (!base) return undefined;
  return base.includes('{traceId}') ? base.replaceAll('{traceId}', traceId) : joinUrl(base, traceId);
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}/${path}`;
}

function shorten(text: string): string {
  return text.length <= MAX_ARGS_CHARS ? text : `${text.slice(0, MAX_ARGS_CHARS)}… (${text.length - MAX_ARGS_CHARS} more characters)`;
}
