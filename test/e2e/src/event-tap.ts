// Every lifecycle event of one installation (task.*, worker.*, beat.dispatched), as the health-api's live view
// receives them: an exclusive queue bound to `<prefix>.events` with `#`.
import { parseEvents, type Broker, type LifecycleEvent } from '@nightshift/broker';
import { eventually } from '@nightshift/test-helpers';

export class EventTap {
  readonly events: LifecycleEvent[] = [];
  readonly #close: () => Promise<void>;

  private constructor(close: () => Promise<void>) {
    this.#close = close;
  }

  static async open(broker: Broker): Promise<EventTap> {
    const channel = await broker.createChannel();
    channel.on('error', () => {});
    const tap = new EventTap(() => channel.close().catch(() => {}));
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true, durable: false });
    await channel.bindQueue(queue, broker.names.events, '#');
    await channel.consume(queue, (message) => {
      if (message) tap.events.push(...parseEvents(message.content));
    }, { noAck: true });
    return tap;
  }

  /** Events of `type`, optionally only those `where` accepts. */
  of(type: string, where: (event: LifecycleEvent) => boolean = () => true): LifecycleEvent[] {
    return this.events.filter((e) => e.type === type && where(e));
  }

  /** Waits until an event of `type` that `where` accepts has arrived, and returns the first. */
  waitFor(type: string, where: (event: LifecycleEvent) => boolean, what: string, timeoutMs = 30_000): Promise<LifecycleEvent> {
    return eventually(what, () => this.events.find((e) => e.type === type && where(e)), timeoutMs);
  }

  /** Waits until the task of message id `id` succeeded or was dead-lettered, and returns that event. */
  outcome(id: string, timeoutMs = 30_000): Promise<LifecycleEvent> {
    return eventually(`task ${id} to finish`, () => this.events.find((e) => e.id === id && (e.type === 'task.succeeded' || e.type === 'task.dead-lettered')), timeoutMs);
  }

  close(): Promise<void> {
    return this.#close();
  }
}
