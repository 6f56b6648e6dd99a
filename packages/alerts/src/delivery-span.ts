import {
  ATTR_ALERT_CHANNEL, ATTR_ALERT_DEAD_LETTERS, ATTR_ALERT_DELIVERY_ATTEMPT, ATTR_ALERT_KIND,
  ATTR_ATTEMPT, ATTR_DEAD_LETTER_ID, ATTR_DEAD_LETTER_REASON, ATTR_TASK_ERROR_TYPE, ATTR_QUEUE,
  ATTR_TASK, ATTR_BEAT_ENTRY, extractTraceContext, runInSpan, SpanKind, trace, type Attributes,
} from '@nightshift/telemetry';
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
    [ATTR_ALERT_CHANNEL]: channel,
    [ATTR_ALERT_KIND]: alert.kind,
    [ATTR_ALERT_DELIVERY_ATTEMPT]: entry.attempts,
    [ATTR_TASK]: alert.task,
  };
  if (alert.kind === 'summary') {
    return { ...common, [ATTR_TASK_ERROR_TYPE]: alert.errorClass, [ATTR_ALERT_DEAD_LETTERS]: alert.count };
  }
  if (alert.kind === 'schedule') return { ...common, [ATTR_BEAT_ENTRY]: alert.entry, ...(alert.queue !== null ? { [ATTR_QUEUE]: alert.queue } : {}) };
  return {
    ...common,
    [ATTR_DEAD_LETTER_ID]: alert.deadLetterId,
    [ATTR_DEAD_LETTER_REASON]: alert.reason,
    [ATTR_TASK_ERROR_TYPE]: alert.error.class,
    ...(alert.queue !== null ? { [ATTR_QUEUE]: alert.queue } : {}),
    ...(alert.attempts !== null ? { [ATTR_ATTEMPT]: alert.attempts } : {}),
  };
}
