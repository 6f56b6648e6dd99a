import type { TaskEnvelope } from '@nightshift/core';
import { ATTR_DEAD_LETTER_ID, extractTraceContext } from '@nightshift/telemetry';
import type { Broker } from './broker.ts';
import { publishTask } from './client.ts';
import { messagingAttributes, publishInSpan, taskAttributes } from './message-spans.ts';

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
    const envelope = { ...replay.envelope, queue: replay.queue };
    const operation = { name: 'requeue', type: 'send', exchange: broker.names.tasks, routingKey: envelope.queue, messageId: envelope.id } as const;
    const attributes = { ...messagingAttributes(operation), ...taskAttributes(envelope), [ATTR_DEAD_LETTER_ID]: replay.deadLetterId };
    const headers: Record<string, unknown> = { ...replay.traceHeaders };
    await publishInSpan(`requeue ${envelope.task}`, attributes, extractTraceContext(headers), headers, () => publishTask(broker, envelope, headers));
  };
}
