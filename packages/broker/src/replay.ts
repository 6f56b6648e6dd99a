import type { TaskEnvelope } from '@nightshift/core';
import { context, endSpanAfter, extractTraceContext, injectTraceContext, SpanKind, trace } from '@nightshift/telemetry';
import type { Broker } from './broker.ts';
import { publishTask } from './client.ts';

const tracer = trace.getTracer('@nightshift/broker');

/** A dead letter sent again: its new envelope, its queue, and the trace headers of the original message. */
export interface Replay {
  readonly deadLetterId: string;
  readonly queue: string;
  readonly envelope: TaskEnvelope;
  readonly traceHeaders: Readonly<Record<string, string>>;
}

/**
 * Publishes requeued dead letters through `broker`: to the `tasks` exchange under the task's queue (declared if
 * needed), confirmed, inside a `requeue <task>` span whose parent is the original message's trace.
 */
export function brokerReplayPublisher(broker: Broker): (replay: Replay) => Promise<void> {
  return async (replay) => {
    const { envelope } = replay;
    const parent = extractTraceContext({ ...replay.traceHeaders });
    const span = tracer.startSpan(`requeue ${envelope.task}`, {
      kind: SpanKind.PRODUCER,
      attributes: {
        'messaging.system': 'rabbitmq',
        'messaging.operation.type': 'send',
        'messaging.destination.name': broker.names.queue(replay.queue),
        'messaging.message.id': envelope.id,
        'nightshift.task': envelope.task,
        'nightshift.dead_letter.id': replay.deadLetterId,
      },
    }, parent);
    // Without a tracer provider the span is not recording: the original context is passed on as it was.
    const headers: Record<string, unknown> = { ...replay.traceHeaders };
    if (span.isRecording()) injectTraceContext(headers, trace.setSpan(context.active(), span));
    await endSpanAfter(span, () => publishTask(broker, { ...envelope, queue: replay.queue }, headers));
  };
}
