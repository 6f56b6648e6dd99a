import type { Channel, Options } from 'amqplib';
import { TopologyMismatchError } from '@nightshift/core';
import { HEADERS, stepLabel, type TopologyNames } from './names.ts';

/** What to declare. */
export interface TopologySpec {
  readonly names: TopologyNames;
  /** Deliveries of one message before the broker dead-letters it (`x-delivery-limit`). */
  readonly deliveryLimit: number;
  /** Retry ladder steps in milliseconds, ascending. */
  readonly ladderMs: readonly number[];
}

/** Arguments of a work queue. Exposed so tests and tools can see exactly what is declared. */
function workQueueArguments(spec: TopologySpec): Options.AssertQueue {
  return {
    durable: true,
    arguments: {
      'x-queue-type': 'quorum',
      'x-dead-letter-exchange': spec.names.dlx,
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
      'x-delivery-limit': spec.deliveryLimit,
    },
  };
}

/**
 * Declares the shared objects: `tasks`, the retry ladder, `dlx` + `dead-letters`, `events`, `control`.
 * Idempotent. Fails with `TopologyMismatchError` when an object exists with other arguments; the channel is
 * closed by the broker in that case.
 */
export async function declareBaseTopology(channel: Channel, spec: TopologySpec): Promise<void> {
  const { names } = spec;
  await guard(async () => {
    await channel.assertExchange(names.tasks, 'direct', { durable: true });
    await channel.assertExchange(names.retry, 'headers', { durable: true });
    await channel.assertExchange(names.dlx, 'fanout', { durable: true });
    await channel.assertExchange(names.events, 'topic', { durable: true });
    await channel.assertExchange(names.control, 'fanout', { durable: true });
    await channel.assertQueue(names.deadLetters, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.bindQueue(names.deadLetters, names.dlx, '');
    for (const stepMs of spec.ladderMs) {
      const queue = names.retryQueue(stepMs);
      await channel.assertQueue(queue, {
        durable: true,
        arguments: {
          'x-queue-type': 'quorum',
          'x-message-ttl': stepMs,
          // When the wait is over the message goes back through `tasks` with its original routing key (its queue).
          'x-dead-letter-exchange': names.tasks,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        },
      });
      await channel.bindQueue(queue, names.retry, '', { 'x-match': 'all', [HEADERS.step]: stepLabel(stepMs) });
    }
  });
}

/** Declares the work queue of a logical queue and binds it to `tasks` under its own name. Idempotent. */
export async function declareWorkQueue(channel: Channel, spec: TopologySpec, queue: string): Promise<void> {
  const name = spec.names.queue(queue);
  await guard(async () => {
    await channel.assertQueue(name, workQueueArguments(spec));
    await channel.bindQueue(name, spec.names.tasks, queue);
  });
}

/** Deletes every object `declareBaseTopology` and `declareWorkQueue` made, and beat's journal. For tests and `nightshift reset`. */
export async function deleteTopology(channel: Channel, spec: TopologySpec, queues: readonly string[]): Promise<void> {
  const { names } = spec;
  for (const queue of queues) await channel.deleteQueue(names.queue(queue));
  for (const stepMs of spec.ladderMs) await channel.deleteQueue(names.retryQueue(stepMs));
  await channel.deleteQueue(names.deadLetters);
  await channel.deleteQueue(names.beatJournal);
  for (const exchange of [names.tasks, names.retry, names.dlx, names.events, names.control]) await channel.deleteExchange(exchange);
}

async function guard(declare: () => Promise<void>): Promise<void> {
  try {
    await declare();
  } catch (error) {
    throw explainMismatch(error) ?? error;
  }
}

const INEQUIVALENT = /inequivalent arg '([^']+)' for (queue|exchange) '([^']+)' in vhost '([^']*)': received (.*?) but current is (.*?)"?$/;

/** Turns RabbitMQ's PRECONDITION_FAILED into an error that says what differs and what to do. */
function explainMismatch(error: unknown): TopologyMismatchError | undefined {
  const message = error instanceof Error ? error.message : '';
  if (!message.includes('PRECONDITION_FAILED')) return undefined;
  const match = INEQUIVALENT.exec(message);
  if (!match) {
    return new TopologyMismatchError(`the broker refused a declaration: ${message}`, { cause: error });
  }
  const [, argument, kind, name, , wanted, current] = match;
  const existing = argument === 'x-queue-type' && current === 'none' ? 'a classic queue' : `${argument} ${describeValue(current)}`;
  return new TopologyMismatchError(
    `${kind} "${name}" already exists with ${existing}, but Nightshift declares ${argument} ${describeValue(wanted)}. ` +
      `Drain and delete the ${kind} (it will be declared again), or change the setting back to match.`,
    { cause: error },
  );
}

// RabbitMQ writes `'9'`, `the value '9' of type 'signedint'` or `none`.
function describeValue(text: string | undefined): string {
  if (text === undefined || text.trim() === 'none') return '(not set)';
  const value = /'([^']*)'/.exec(text);
  return value ? `= ${value[1]}` : text;
}
