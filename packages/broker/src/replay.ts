import type { TaskEnvelope } from '@nightshift/core';
import { ATTR_DEAD_LETTER_ID, extractTraceContext, traceIdOf } from '@nightshift/telemetry';
import type { Broker } from './broker.ts';
import { announceSent, publishTask } from './client.ts';
import type { EventPublisher } from './events.ts';
import { publishInSpan, taskPublishAttributes } from './message-spans.ts';

/** A dead letter sent again: its new envelope, its queue, and the trace headers of the original message. */
export interface Replay {
  readonly deadLetterId: string;
  readonly queue: string;
  readonly envelope: TaskEnvelope;
  readonly traceHeaders: Readonly<Record<string, string>>;
}

/**
 * Publishes requeued dead letters through `broker`: to the `tasks` exchange under the task's queue (declared if
 * needed), confirmed, inside a `requeue <task>` span whose parent is the original message's trace; then announces
 * each as a `task.sent` event on `events`, as a producer's send does, so the replay's run in the history has its
 * args, kwargs and replay origin (without it the history knew the run only from the worker's events: args null).
 */
export function brokerReplayPublisher(broker: Broker, events: EventPublisher): (replay: Replay) => Promise<void> {
  return async (replay) => {
    const envelope = { ...replay.envelope, queue: replay.queue };
    const attributes = { ...taskPublishAttributes('requeue', broker.names.tasks, envelope), [ATTR_DEAD_LETTER_ID]: replay.deadLetterId };
    const headers: Record<string, unknown> = { ...replay.traceHeaders };
    const traceId = await publishInSpan(`requeue ${envelope.task}`, attributes, extractTraceContext(headers), headers, async (span) => {
      await publishTask(broker, envelope, headers);
      return traceIdOf(span);
    });
    announceSent(events, envelope, traceId);
  };
}
