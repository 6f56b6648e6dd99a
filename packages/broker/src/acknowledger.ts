import type { Channel, ConsumeMessage } from 'amqplib';

/**
 * Settles the deliveries of one channel, sending acks together. An ack waits at most until the event loop's
 * next turn (`setImmediate`): by then the deliveries acked meanwhile that lead the channel's unsettled ones
 * go as one `basic.ack` with `multiple`, the rest one by one. The broker (a quorum queue writes every
 * settlement to its log) and the socket see one frame where there were many. A nack goes at once, after the
 * acks before it. An ack is only ever called after its outcome is durable, so sending it a moment later
 * changes nothing but cost: if the channel dies first, the broker redelivers, as it would have anyway.
 */
export class Acknowledger {
  readonly #channel: Channel;
  /** Delivered and not yet settled on the wire, in delivery order (delivery tags only grow). */
  readonly #unsettled = new Map<number, ConsumeMessage>();
  readonly #acked = new Set<number>();
  #scheduled: NodeJS.Immediate | undefined;

  constructor(channel: Channel) {
    this.#channel = channel;
  }

  delivered(message: ConsumeMessage): void {
    this.#unsettled.set(message.fields.deliveryTag, message);
  }

  ack(message: ConsumeMessage): void {
    this.#acked.add(message.fields.deliveryTag);
    this.#scheduled ??= setImmediate(() => {
      try {
        this.flush();
      } catch {
        // The channel is gone; the broker redelivers what it had not been told.
      }
    });
  }

  nack(message: ConsumeMessage, requeue: boolean): void {
    this.flush();
    this.#unsettled.delete(message.fields.deliveryTag);
    this.#channel.nack(message, false, requeue);
  }

  /** Sends the acks waiting now. Throws if the channel is gone (the broker then redelivers the messages). */
  flush(): void {
    clearImmediate(this.#scheduled);
    this.#scheduled = undefined;
    if (this.#acked.size === 0) return;
    let last: ConsumeMessage | undefined;
    for (const [tag, message] of this.#unsettled) {
      if (!this.#acked.has(tag)) break;
      last = message;
      this.#unsettled.delete(tag);
      this.#acked.delete(tag);
    }
    try {
      if (last) this.#channel.ack(last, true);
      for (const tag of this.#acked) {
        const message = this.#unsettled.get(tag);
        this.#unsettled.delete(tag);
        if (message) this.#channel.ack(message);
      }
    } finally {
      this.#acked.clear();
    }
  }
}
