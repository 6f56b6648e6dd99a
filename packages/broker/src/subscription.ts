import type { Channel, ConsumeMessage } from 'amqplib';
import { Acknowledger } from './acknowledger.ts';
import type { Broker } from './broker.ts';

/** One message, with settlement bound to the channel it arrived on. */
export interface Delivery {
  readonly message: ConsumeMessage;
  /** True once ack or nack was called. */
  readonly settled: boolean;
  /**
   * Aborts when the channel this message came on closes (its connection lost, or the channel itself closed).
   * The message can no longer be settled: RabbitMQ returns it to the queue and delivers it again, perhaps to
   * another worker, so a delivery not yet started must not be started. One that runs may finish.
   */
  readonly channelLost: AbortSignal;
  /**
   * Acknowledges. After the channel died this does nothing (the broker delivers the message again): no frame
   * is attempted on the dead channel.
   */
  ack(): void;
  /** Rejects; `requeue: false` dead-letters through the queue's `x-dead-letter-exchange`. */
  nack(requeue: boolean): void;
}

export type DeliveryHandler = (delivery: Delivery) => Promise<void> | void;

export interface SubscriptionOptions {
  /** Unacknowledged messages the broker may push to this consumer at once. Default: `10`. */
  prefetch?: number;
  /**
   * Declares what the queue needs (the queue, its bindings) on the consuming channel, before consuming starts
   * and again before every resume. Default: nothing (work queues and the base topology are declared by the
   * broker on every reconnect, before subscriptions resume). A queue that goes away with its consumer
   * (auto-delete, exclusive) needs it: after a reconnect it is gone, and consuming before it is declared
   * again fails with 404.
   */
  declare?: (channel: Channel) => Promise<void>;
}

/** A consumer that comes back after every reconnect until cancelled. */
export class Subscription {
  readonly queue: string;
  readonly #broker: Broker;
  readonly #handler: DeliveryHandler;
  readonly #prefetch: number;
  readonly #declare: ((channel: Channel) => Promise<void>) | undefined;
  readonly #onCancel: () => void;
  #channel: Channel | undefined;
  #acknowledger: Acknowledger | undefined;
  #cancelled = false;
  #consumerTag: string | undefined;
  #starting: Promise<void> | undefined;
  readonly #active = new Set<Promise<void>>();
  /** Delivered and not settled, on the channels still open. */
  readonly #unsettled = new Set<Delivery>();
  readonly #onReady = () => void this.start().catch((error: unknown) => this.#broker.log.error({ err: error, queue: this.queue }, 'could not resume consuming'));

  constructor(broker: Broker, queue: string, handler: DeliveryHandler, options: SubscriptionOptions, onCancel: () => void) {
    this.#broker = broker;
    this.queue = queue;
    this.#handler = handler;
    this.#prefetch = options.prefetch ?? 10;
    this.#declare = options.declare;
    this.#onCancel = onCancel;
    broker.on('ready', this.#onReady);
  }

  /** Opens a channel and starts consuming, unless already doing so. */
  start(): Promise<void> {
    if (this.#cancelled || this.#channel) return Promise.resolve();
    this.#starting ??= this.#open().finally(() => {
      this.#starting = undefined;
    });
    return this.#starting;
  }

  /** Number of deliveries whose handler is still running. */
  get active(): number {
    return this.#active.size;
  }

  /**
   * Stops new deliveries (basic.cancel) but keeps the channel open, so running handlers can still ack.
   * Messages delivered but not settled stay with this consumer until `cancel` closes the channel.
   */
  async stopConsuming(): Promise<void> {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#broker.off('ready', this.#onReady);
    this.#onCancel();
    const channel = this.#channel;
    if (channel && this.#consumerTag) await channel.cancel(this.#consumerTag).catch(() => {});
  }

  /** Stops consuming, optionally waits for running handlers, then closes the channel: unsettled messages return to the queue. */
  async cancel(options: { waitForHandlers?: boolean } = {}): Promise<void> {
    await this.stopConsuming();
    const channel = this.#channel;
    if (options.waitForHandlers) await Promise.allSettled([...this.#active]);
    this.#channel = undefined;
    // Acks waiting for the next turn go first: closing before them would return those messages to the queue.
    try {
      this.#acknowledger?.flush();
    } catch {
      // The channel is gone; the broker redelivers.
    }
    await channel?.close().catch(() => {});
  }

  async #open(): Promise<void> {
    const channel = await this.#broker.createChannel();
    if (this.#cancelled) {
      await channel.close().catch(() => {});
      return;
    }
    const lost = new AbortController();
    channel.on('error', () => {});
    channel.on('close', () => {
      if (this.#channel === channel) this.#channel = undefined;
      this.#channelClosed(lost);
      // A channel-level close while the connection is up (e.g. a 406 on ack) needs a new channel now;
      // after a connection loss the broker's `ready` event restarts us.
      if (!this.#cancelled && this.#broker.connected) setTimeout(this.#onReady, 200).unref();
    });
    // On the consuming channel itself: declared by another channel, the queue could still be missing when the
    // consume arrives (both race after a reconnect), a 404 logged as an error though a retry 200 ms later works.
    await this.#declare?.(channel);
    await channel.prefetch(this.#prefetch);
    const acknowledger = new Acknowledger(channel);
    this.#channel = channel;
    this.#acknowledger = acknowledger;
    const { consumerTag } = await channel.consume(this.queue, (message) => {
      if (message === null) {
        // The server cancelled us (queue deleted or failed over): reopen shortly.
        this.#broker.log.warn({ queue: this.queue }, 'the broker cancelled the consumer; resubscribing');
        void channel.close().catch(() => {});
        return;
      }
      this.#dispatch(acknowledger, lost.signal, message);
    }, { noAck: false });
    this.#consumerTag = consumerTag;
  }

  /** The deliveries the channel brought and did not settle go back to the queue: said once, at info. */
  #channelClosed(lost: AbortController): void {
    if (lost.signal.aborted) return;
    let unsettled = 0;
    for (const delivery of this.#unsettled) {
      if (delivery.channelLost !== lost.signal) continue;
      this.#unsettled.delete(delivery);
      unsettled += 1;
    }
    lost.abort(new Error('the channel closed'));
    if (unsettled > 0 && !this.#cancelled) {
      this.#broker.log.info({ queue: this.queue, unsettled },
        `the channel closed with ${unsettled} deliveries unsettled: RabbitMQ delivers them again; those not started here are dropped, and running ones finish without an ack`);
    }
  }

  #dispatch(acknowledger: Acknowledger, channelLost: AbortSignal, message: ConsumeMessage): void {
    acknowledger.delivered(message);
    let settled = false;
    const settle = (action: () => void) => {
      if (settled) return;
      settled = true;
      this.#unsettled.delete(delivery);
      // Nothing to tell a dead channel: amqplib would throw, and the broker has taken the message back.
      if (channelLost.aborted) return;
      try {
        action();
      } catch {
        // The channel is gone; the broker redelivers the message.
      }
    };
    const delivery: Delivery = {
      message,
      channelLost,
      get settled() {
        return settled;
      },
      ack: () => settle(() => acknowledger.ack(message)),
      nack: (requeue) => settle(() => acknowledger.nack(message, requeue)),
    };
    this.#unsettled.add(delivery);
    const run = (async () => {
      try {
        await this.#handler(delivery);
      } catch (error) {
        this.#broker.log.error({ err: error, queue: this.queue }, 'a message handler threw; the message goes back to the queue');
        delivery.nack(true);
      }
    })();
    this.#active.add(run);
    void run.finally(() => this.#active.delete(run));
  }
}
