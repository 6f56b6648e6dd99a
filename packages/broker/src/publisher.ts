import type { ConfirmChannel, Message, Options } from 'amqplib';
import { Backoff, BrokerUnavailableError, UnroutableError } from '@nightshift/core';
import type { Broker } from './broker.ts';

interface Pending {
  readonly seq: number;
  readonly exchange: string;
  readonly routingKey: string;
  readonly content: Buffer;
  readonly options: Options.Publish;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  /** `performance.now()` after which it fails with `BrokerUnavailableError` (the publish timeout). */
  readonly deadline: number;
  /** The channel it was last written to, while waiting for its confirm. */
  sentOn: ConfirmChannel | undefined;
  sends: number;
  settled: boolean;
  /** Sent on a channel that closed before confirming: the broker may hold a copy already. */
  ambiguous: boolean;
  /** A `mandatory` publish the broker returned: no queue took it. */
  returned: boolean;
}

const MAX_IN_FLIGHT = 2_000;

/**
 * Set on a message sent again after its channel closed before the broker confirmed it. The broker may
 * already hold the first copy (RabbitMQ cannot say), so consumers that must run a task once check this.
 */
export const REPUBLISHED_HEADER = 'x-nightshift-republished';

function unroutable(pending: Pending): UnroutableError {
  return new UnroutableError(`no queue is bound to ${pending.exchange} for routing key ${JSON.stringify(pending.routingKey)}; the message was not stored (declare the queue first)`);
}

function isNack(error: unknown): boolean {
  return error instanceof Error && error.message === 'message nacked';
}

function optionsFor(pending: Pending): Options.Publish {
  if (!pending.ambiguous) return pending.options;
  return { ...pending.options, headers: { ...(pending.options.headers ?? {}), [REPUBLISHED_HEADER]: true } };
}
// Reopening after a suspect channel: 100 ms doubling to 5 s. No jitter: one publisher per connection.
const REOPEN_BACKOFF = new Backoff({ base: 100, factor: 2, max: 5_000, jitter: 0 }, 'publisher reopen backoff');

/**
 * Confirmed publishing that never drops a message silently. Every publish resolves only when the broker
 * confirms it; a nack marks the channel suspect (it is closed and replaced, with backoff, because a channel
 * nacked during a quorum-queue leader election may never recover), and unconfirmed messages are sent again
 * on a fresh channel. A message whose channel closed before its confirm arrived is sent again marked with
 * `REPUBLISHED_HEADER` (one of several ways a message reaches a queue twice: redeliveries and the retry
 * ladder's dead-lettering duplicate too, unmarked; see the README's Delivery guarantees). A publish that cannot be confirmed within the publish timeout rejects with
 * `BrokerUnavailableError`. Back-pressure: at most 2000 unconfirmed messages, and the socket's drain.
 */
export class Publisher {
  readonly #broker: Broker;
  #queue: Pending[] = [];
  readonly #inFlight = new Set<Pending>();
  #channel: ConfirmChannel | undefined;
  #opening = false;
  #waitingForDrain = false;
  /** Channels replaced in a row without a confirm in between: the place on the backoff. */
  #reopens = 0;
  #reopenTimer: NodeJS.Timeout | undefined;
  #seq = 0;
  /**
   * Every unsettled publish in the order it was made, so by deadline (all share the publish timeout): one timer
   * for the oldest instead of one per message (a timer each is an insert into and a removal from Node's timer
   * lists on every publish, and a closure). Settled
   * ones leave from the front; one settled out of order waits there until those before it have gone.
   */
  #byDeadline: Pending[] = [];
  #byDeadlineHead = 0;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #stopped: Error | undefined;
  #idleWaiters: Array<() => void> = [];

  constructor(broker: Broker) {
    this.#broker = broker;
    broker.on('ready', () => this.#pump());
  }

  /** Publishes and resolves when the broker has confirmed the message. */
  publish(exchange: string, routingKey: string, content: Buffer, options: Options.Publish = {}): Promise<void> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    if (this.#broker.fatal) return Promise.reject(this.#broker.fatal);
    return new Promise<void>((resolve, reject) => {
      const pending: Pending = {
        seq: ++this.#seq,
        exchange,
        routingKey,
        content,
        // Persistent unless said otherwise (a copy only then: a send says so itself).
        options: options.persistent === undefined ? { persistent: true, ...options } : options,
        resolve,
        reject,
        deadline: performance.now() + this.#broker.options.publishTimeoutMs,
        sentOn: undefined,
        sends: 0,
        settled: false,
        ambiguous: false,
        returned: false,
      };
      this.#byDeadline.push(pending);
      this.#deadlineTimer ??= setTimeout(() => this.#expireDue(), this.#broker.options.publishTimeoutMs);
      this.#queue.push(pending);
      this.#pump();
    });
  }

  /** Resolves when nothing is queued or waiting for a confirm. */
  flush(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Rejects everything still pending with `reason` and refuses new publishes. */
  stop(reason: Error): void {
    this.#stopped = reason;
    clearTimeout(this.#reopenTimer);
    for (const pending of [...this.#queue, ...this.#inFlight]) this.#settle(pending, reason);
    const channel = this.#channel;
    this.#channel = undefined;
    void channel?.close().catch(() => {});
  }

  #pump(): void {
    if (this.#stopped || this.#queue.length === 0) return;
    const channel = this.#channel;
    if (!channel) {
      this.#open();
      return;
    }
    while (this.#queue.length > 0 && !this.#waitingForDrain && this.#inFlight.size < MAX_IN_FLIGHT && this.#channel === channel) {
      const pending = this.#queue.shift() as Pending;
      if (pending.settled) continue;
      pending.sentOn = channel;
      pending.sends += 1;
      this.#inFlight.add(pending);
      let writable: boolean;
      try {
        writable = channel.publish(pending.exchange, pending.routingKey, pending.content, optionsFor(pending), (error) => this.#onConfirm(pending, channel, error));
      } catch {
        // The channel closed under us; the message goes back to the front and a new channel is opened.
        this.#requeue(pending);
        this.#discard(channel);
        return;
      }
      if (!writable) {
        this.#waitingForDrain = true;
        channel.once('drain', () => {
          this.#waitingForDrain = false;
          this.#pump();
        });
      }
    }
  }

  #onConfirm(pending: Pending, channel: ConfirmChannel, error: unknown): void {
    if (pending.settled || pending.sentOn !== channel) return;
    if (!error) {
      this.#reopens = 0;
      this.#settle(pending, pending.returned ? unroutable(pending) : undefined);
      this.#pump();
      return;
    }
    // Nacked, or the channel closed before confirming: send it again on a fresh channel.
    // A nack means the broker did not store it; a close ('channel closed') leaves that unknown.
    if (!isNack(error)) pending.ambiguous = true;
    this.#requeue(pending);
    if (this.#channel === channel && isNack(error)) {
      this.#broker.log.warn({ exchange: pending.exchange, routingKey: pending.routingKey }, 'publish not confirmed; replacing the channel and sending again');
      this.#discard(channel, true);
    }
  }

  #onReturn(channel: ConfirmChannel, message: Message): void {
    for (const pending of this.#inFlight) {
      if (pending.sentOn === channel && !pending.returned && pending.exchange === message.fields.exchange
        && pending.routingKey === message.fields.routingKey && pending.options.messageId === message.properties.messageId) {
        pending.returned = true;
        return;
      }
    }
  }

  #open(): void {
    if (this.#opening || this.#reopenTimer || this.#stopped) return;
    this.#opening = true;
    this.#broker.createConfirmChannel().then(
      (channel) => {
        this.#opening = false;
        if (this.#stopped) {
          void channel.close().catch(() => {});
          return;
        }
        channel.on('error', () => {});
        channel.on('close', () => this.#discard(channel));
        // The broker returns an unroutable mandatory message before it confirms it.
        channel.on('return', (message: Message) => this.#onReturn(channel, message));
        this.#channel = channel;
        this.#waitingForDrain = false;
        this.#pump();
      },
      () => {
        this.#opening = false;
        this.#scheduleReopen();
      },
    );
  }

  /** Forgets a channel; whatever was in flight on it goes back to the queue. */
  #discard(channel: ConfirmChannel, suspect = false): void {
    if (this.#channel === channel) this.#channel = undefined;
    for (const pending of this.#inFlight) {
      if (pending.sentOn !== channel) continue;
      pending.ambiguous = true;
      this.#requeue(pending);
    }
    if (suspect) void channel.close().catch(() => {});
    if (suspect) this.#scheduleReopen();
    else this.#pump();
  }

  #scheduleReopen(): void {
    if (this.#reopenTimer || this.#stopped) return;
    this.#reopens += 1;
    this.#reopenTimer = setTimeout(() => {
      this.#reopenTimer = undefined;
      this.#pump();
    }, REOPEN_BACKOFF.delay(this.#reopens));
  }

  #requeue(pending: Pending): void {
    this.#inFlight.delete(pending);
    pending.sentOn = undefined;
    if (pending.settled) return;
    // Keep the original order: insert by sequence number.
    const index = this.#queue.findIndex((other) => other.seq > pending.seq);
    if (index === -1) this.#queue.push(pending);
    else this.#queue.splice(index, 0, pending);
  }

  /** Fails the publishes whose deadline has passed, then waits for the next oldest. */
  #expireDue(): void {
    this.#deadlineTimer = undefined;
    const now = performance.now();
    for (;;) {
      this.#dropSettledFront();
      const oldest = this.#byDeadline[this.#byDeadlineHead];
      if (oldest === undefined) return;
      if (oldest.deadline > now) {
        this.#deadlineTimer = setTimeout(() => this.#expireDue(), Math.max(1, Math.ceil(oldest.deadline - now)));
        return;
      }
      this.#expire(oldest, this.#broker.options.publishTimeoutMs);
    }
  }

  #dropSettledFront(): void {
    const list = this.#byDeadline;
    let head = this.#byDeadlineHead;
    while (head < list.length && (list[head] as Pending).settled) head += 1;
    if (head === list.length) {
      this.#byDeadline = [];
      this.#byDeadlineHead = 0;
      clearTimeout(this.#deadlineTimer);
      this.#deadlineTimer = undefined;
    } else if (head > 1_024 && head * 2 > list.length) {
      // Drop the settled front now and then, not on every settle: a copy of what is left, at most half.
      this.#byDeadline = list.slice(head);
      this.#byDeadlineHead = 0;
    } else {
      this.#byDeadlineHead = head;
    }
  }

  #expire(pending: Pending, timeoutMs: number): void {
    if (pending.settled) return;
    const where = `${pending.exchange} (routing key ${JSON.stringify(pending.routingKey)})`;
    const state = pending.sentOn
      ? 'it was sent but not confirmed, so it may or may not have been stored'
      : this.#broker.connected ? 'the broker did not accept it in time' : 'the broker is unreachable';
    this.#settle(pending, new BrokerUnavailableError(`publish to ${where} failed after ${timeoutMs}ms: ${state} (NIGHTSHIFT_PUBLISH_TIMEOUT)`));
  }

  #settle(pending: Pending, error?: Error): void {
    if (pending.settled) return;
    pending.settled = true;
    if (this.#byDeadline[this.#byDeadlineHead] === pending) this.#dropSettledFront();
    this.#inFlight.delete(pending);
    const index = this.#queue.indexOf(pending);
    if (index !== -1) this.#queue.splice(index, 1);
    if (error) pending.reject(error);
    else pending.resolve();
    if (this.#queue.length === 0 && this.#inFlight.size === 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }
}
