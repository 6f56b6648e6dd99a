import { EventEmitter } from 'node:events';
import { connect, type Channel, type ChannelModel, type ConfirmChannel } from 'amqplib';
import { Backoff } from '@nightshift/core';

/** Where and how a `BrokerConnection` connects. */
export interface BrokerConnectionOptions {
  /** The RabbitMQ nodes (`parseBrokerUrls`), tried in turn; after a loss, the next one first. */
  readonly urls: readonly string[];
  /** Shown in RabbitMQ's connection list. */
  readonly connectionName: string;
  /**
   * Runs on every new connection before it counts as up (declares the topology). A throw closes that
   * connection and the next node is tried, as if it had refused.
   */
  readonly setup: (model: ChannelModel) => Promise<void>;
  /** How long one node may take to accept the connection (TCP and AMQP handshake). Default: `2000` ms. */
  readonly connectTimeoutMs?: number;
}

interface BrokerConnectionEvents {
  /** Up, on `node` (host:port), with the topology declared. */
  connect: [model: ChannelModel, node: string];
  /** The connection in use was lost; the next node is being tried. */
  disconnect: [error: Error];
  /** One node could not be reached (or its setup failed); the next is tried, with a pause after a full round. */
  'connect-failed': [error: Error, node: string];
  /**
   * Every node failed once: the next round starts after `delay` ms. `error` has code `ECONNREFUSED` when every
   * node refused (nothing listens there), else it is the last other error.
   */
  'reconnect-scheduled': [info: { attempt: number; delay: number; error: Error }];
  blocked: [reason: string];
  unblocked: [];
  error: [error: Error];
  'handler-error': [error: Error, event: string];
}

/** The pause after every node was tried once in vain, doubling each round up to the max; spread so clients do not return in step. */
const ROUND_PAUSE = new Backoff({ base: 200, factor: 2, max: 5_000, jitter: 0.2 }, 'broker reconnect backoff');

/**
 * One AMQP connection to one of several RabbitMQ nodes, recovering by itself. On loss it goes straight to the
 * next node of the list (a cluster's survivors take over at once, with no load balancer in front); only when
 * every node refused does it pause before the next round. Channels asked for while it is down wait for it.
 */
export class BrokerConnection extends EventEmitter<BrokerConnectionEvents> {
  readonly #options: BrokerConnectionOptions;
  readonly #waiters: Array<{ resolve: (model: ChannelModel) => void; reject: (error: Error) => void }> = [];
  #model: ChannelModel | undefined;
  #node: string | undefined;
  /** Index in `urls` of the node in use or last tried; the first attempt starts at the first node. */
  #index = -1;
  #failedRounds = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: BrokerConnectionOptions) {
    super();
    if (options.urls.length === 0) throw new TypeError('BrokerConnection: urls must name at least one node');
    this.#options = options;
    // Listeners are attached by the caller in this turn; the first attempt starts in the next.
    setImmediate(() => void this.#connectRound());
  }

  /** The node in use (`host:port`), or `undefined` while down. Never carries credentials. */
  get node(): string | undefined {
    return this.#model === undefined ? undefined : this.#node;
  }

  createChannel(): Promise<Channel> {
    return this.#whenUp().then((model) => model.createChannel());
  }

  createConfirmChannel(): Promise<ConfirmChannel> {
    return this.#whenUp().then((model) => model.createConfirmChannel());
  }

  /** Stops recovering and closes the connection; channels still waiting are refused. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    for (const waiter of this.#waiters.splice(0)) waiter.reject(new Error('Connection closed'));
    const model = this.#model;
    this.#model = undefined;
    await model?.close().catch(() => {});
  }

  #whenUp(): Promise<ChannelModel> {
    if (this.#model !== undefined) return Promise.resolve(this.#model);
    if (this.#closed) return Promise.reject(new Error('Connection closed'));
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  // Tries each node once, starting after the one last used; pauses only when all of them failed.
  async #connectRound(): Promise<void> {
    const { urls } = this.#options;
    let refused: Error | undefined;
    let other: Error | undefined;
    for (let tried = 0; tried < urls.length && !this.#closed; tried++) {
      this.#index = (this.#index + 1) % urls.length;
      const url = urls[this.#index] as string;
      const node = nodeOf(url);
      let model: ChannelModel | undefined;
      try {
        model = await connect(url, {
          clientProperties: { connection_name: this.#options.connectionName },
          // Small frames (acks, events, confirms) must not wait for Nagle's algorithm.
          noDelay: true,
          timeout: this.#options.connectTimeoutMs ?? 2_000,
        });
        model.on('error', () => {}); // reported through 'close'
        await this.#options.setup(model);
      } catch (error) {
        await model?.close().catch(() => {});
        const failure = error instanceof Error ? error : new Error(String(error));
        if ((failure as NodeJS.ErrnoException).code === 'ECONNREFUSED') refused = failure;
        else other = failure;
        if (!this.#closed) this.emit('connect-failed', failure, node);
        continue;
      }
      if (this.#closed) {
        await model.close().catch(() => {});
        return;
      }
      this.#up(model, node);
      return;
    }
    if (this.#closed) return;
    this.#failedRounds += 1;
    const pause = ROUND_PAUSE.delay(this.#failedRounds);
    this.#timer = setTimeout(() => void this.#connectRound(), pause);
    this.emit('reconnect-scheduled', { attempt: this.#failedRounds, delay: pause, error: other ?? refused ?? new Error('no node answered') });
  }

  #up(model: ChannelModel, node: string): void {
    this.#model = model;
    this.#node = node;
    this.#failedRounds = 0;
    model.on('close', (error?: Error) => {
      if (this.#model !== model) return;
      this.#model = undefined;
      if (this.#closed) return;
      this.emit('disconnect', error ?? new Error('Connection closed'));
      void this.#connectRound();
    });
    model.on('error', (error: Error) => this.emit('error', error));
    model.on('blocked', (reason: string) => this.emit('blocked', reason));
    model.on('unblocked', () => this.emit('unblocked'));
    model.on('handler-error', (error: Error, event: string) => this.emit('handler-error', error, event));
    for (const waiter of this.#waiters.splice(0)) waiter.resolve(model);
    this.emit('connect', model, node);
  }
}

/** `host:port` of an AMQP URL: names the node in logs and metrics without its credentials. */
export function nodeOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port === '' ? (parsed.protocol === 'amqps:' ? '5671' : '5672') : parsed.port}`;
}
