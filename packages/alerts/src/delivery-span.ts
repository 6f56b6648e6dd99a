import { extractTraceContext, runInSpan, SpanKind, trace, type Attributes } from '@nightshift/telemetry';
import type { Alert } from './alert.ts';
import type { AlertChannel } from './channels.ts';
import type { OutboxEntryLike } from './outbox-sender.ts';

const tracer = trace.getTracer('@nightshift/alerts');

/**
 * Sends `alert` through `channel` inside an `alert <channel>` client span: one span per delivery attempt, so a
 * trace shows Slack refusing twice before it took the page.
 *
 * Where the span hangs: a page is the page of one dead letter, the first of its group, so its span is a child
 * of the span that stored that dead letter (the `traceparent` the page carries through the outbox, across
 * restarts): send → … → dead-letter → store → alert slack is one trace. The dead letters counted into the group
 * afterwards are in their own traces, each ending at its `store` span. A summary ("…and N more") stands for
 * many dead letters whose contexts are not kept, so its delivery spans start a trace of their own.
 */
export function deliverInSpan(channel: AlertChannel, alert: Alert, entry: OutboxEntryLike): Promise<void> {
  const parent = extractTraceContext(alert.kind === 'page' && alert.traceparent !== undefined ? { traceparent: alert.traceparent } : undefined);
  const span = tracer.startSpan(`alert ${channel.name}`, { kind: SpanKind.CLIENT, attributes: deliveryAttributes(channel.name, alert, entry) }, parent);
  return runInSpan(span, parent, () => channel.send(alert, { id: entry.id }));
}

function deliveryAttributes(channel: string, alert: Alert, entry: OutboxEntryLike): Attributes {
  const common = {
    'nightshift.alert.channel': channel,
    'nightshift.alert.kind': alert.kind,
    'nightshift.alert.delivery_attempt': entry.attempts,
    'nightshift.task': alert.task,
  };
  if (alert.kind === 'summary') {
    return { ...common, 'nightshift.error.type': alert.errorClass, 'nightshift.alert.dead_letters': alert.count };
  }
  return {
    ...common,
    'nightshift.dead_letter.id': alert.deadLetterId,
    'nightshift.dead_letter.reason': alert.reason,
    'nightshift.error.type': alert.error.class,
    ...(alert.queue !== null ? { 'nightshift.queue': alert.queue } : {}),
    ...(alert.attempts !== null ? { 'nightshift.attempt': alert.attempts } : {}),
  };
}
