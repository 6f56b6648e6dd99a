import { randomUUID } from 'node:crypto';
import type { Channel } from 'amqplib';
import type { Broker } from '@nightshift/broker';

/**
 * The history queue: durable, shared by every health-api replica (each event is recorded by one of them),
 * bounded so that a stopped recorder cannot fill the broker (the oldest events are dropped first).
 */
export function historyQueueName(broker: Broker): string {
  return `${broker.names.prefix}.health-api.history`;
}

/**
 * Declares the history queue and binds it to every task event and every beat event (each fire time's fate),
 * now and after every reconnect.
 */
export async function declareHistoryQueue(broker: Broker, maxLength: number): Promise<string> {
  const queue = historyQueueName(broker);
  const declare = () => broker.withChannel(async (channel) => {
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-max-length': maxLength, 'x-overflow': 'drop-head' } });
    await channel.bindQueue(queue, broker.names.events, 'task.#');
    await channel.bindQueue(queue, broker.names.events, 'beat.#');
  });
  await declare();
  broker.on('ready', () => void declare().catch((error: unknown) => broker.log.warn({ err: { message: (error as Error).message } }, 'could not declare the history queue')));
  return queue;
}

/**
 * This replica's own queue of every event (workers, beat, tasks), for its live state and event stream:
 * not durable, deleted a minute after the replica goes, bounded so that a stalled consumer drops old events.
 * Auto-delete, so it is gone after a reconnect: pass `declare` to the subscription, which declares it on its
 * own channel before every resume (declared beside it, consuming could come first and fail with 404).
 */
export function liveQueue(broker: Broker): { readonly name: string; readonly declare: (channel: Channel) => Promise<void> } {
  const name = `${broker.names.prefix}.health-api.live.${randomUUID().slice(0, 8)}`;
  return {
    name,
    declare: async (channel) => {
      await channel.assertQueue(name, { durable: false, autoDelete: true, arguments: { 'x-expires': 60_000, 'x-max-length': 50_000, 'x-overflow': 'drop-head' } });
      await channel.bindQueue(name, broker.names.events, '#');
    },
  };
}
