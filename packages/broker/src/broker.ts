import { EventEmitter } from 'node:events';
import type { Channel, ChannelModel, ConfirmChannel } from 'amqplib';
import { BrokerUnavailableError, parseBrokerUrls, redactUrl, TopologyMismatchError, type Logger, type NightshiftConfig } from '@nightshift/core';
import { BrokerConnection } from './broker-connection.ts';
import { watchBrokerNode } from './node-metric.ts';
import { topologyNames, type TopologyNames } from './names.ts';
import { declareBaseTopology, declareWorkQueue, deleteTopology, type TopologySpec } from './topology.ts';
import { Publisher } from './publisher.ts';
import { Subscription, type DeliveryHandler, type SubscriptionOptions } from './subscription.ts';
import { silentLogger } from './silent-logger.ts';

/** How to reach and shape the broker. `brokerOptions(config, name)` builds it from the environment. */
export interface BrokerOptions {
  /** AMQP URL, or the nodes of a cluster separated by commas (`parseBrokerUrls`): on loss, the next node is tried at once. */
  readonly url: string;
  /** Prefix of every broker object. */
  readonly prefix: string;
  /** `x-delivery-limit` of work queues. */
  readonly deliveryLimit: number;
  /** Retry ladder steps, milliseconds. */
  readonly ladderMs: readonly number[];
  /** How long a publish may wait for the broker before it fails. */
  readonly publishTimeoutMs: number;
  /** Shown in RabbitMQ's connection list (`nightshift worker@host`). */
  readonly connectionName: string;
  readonly logger?: Logger;
  /** How long `Broker.connect` waits for the first connection. Default: `publishTimeoutMs`. */
  readonly connectTimeoutMs?: number;
  /**
   * Declare the topology on every (re)connect. Default: `true`. Tools that only talk to running services
   * (e.g. `nightshift inspect`) pass `false`, so a mistyped prefix creates nothing.
   */
  readonly declareTopology?: boolean;
  /**
   * A connection refused (nothing listens at the URL) fails `connect` at once with a `BrokerUnavailableError`
   * saying what to do, rather than retrying until `connectTimeoutMs`: for commands (`nightshift send`), which
   * a person waits on. Services leave it off and keep retrying, a readable line per retry. Default: `false`.
   */
  readonly failWhenRefused?: boolean;
}

export function brokerOptions(config: NightshiftConfig, connectionName: string, logger?: Logger): BrokerOptions {
  return {
    url: config.amqpUrl,
    prefix: config.prefix,
    deliveryLimit: config.deliveryLimit,
    ladderMs: config.retryLadderMs,
    publishTimeoutMs: config.publishTimeoutMs,
    connectionName,
    ...(logger ? { logger } : {}),
  };
}

interface BrokerEvents {
  ready: [generation: number];
  disconnect: [error: Error];
  fatal: [error: Error];
  closed: [];
}

/**
 * One recovering AMQP connection with Nightshift's topology. After every (re)connect the topology and every
 * queue declared through it are declared again, and the publisher and subscriptions reopen their channels.
 */
export class Broker extends EventEmitter<BrokerEvents> {
  readonly names: TopologyNames;
  readonly spec: TopologySpec;
  readonly publisher: Publisher;
  readonly log: Logger;
  readonly options: BrokerOptions;
  /** Increases on every successful (re)connect; 0 before the first. */
  generation = 0;
  /** Set when the broker refused our topology: retrying cannot help. */
  fatal: Error | undefined;
  readonly #connection: BrokerConnection;
  readonly #queues = new Set<string>();
  /** Declarations under way, by queue. */
  readonly #declaring = new Map<string, Promise<void>>();
  readonly #subscriptions = new Set<Subscription>();
  #closed = false;

  private constructor(options: BrokerOptions, connection: BrokerConnection, spec: TopologySpec) {
    super();
    this.options = options;
    this.log = options.logger ?? silentLogger;
    this.names = spec.names;
    this.spec = spec;
    this.#connection = connection;
    this.publisher = new Publisher(this);
  }

  /** Connects (waiting up to `connectTimeoutMs` for the first connection) and declares the base topology. */
  static async connect(options: BrokerOptions): Promise<Broker> {
    const spec: TopologySpec = { names: topologyNames(options.prefix), deliveryLimit: options.deliveryLimit, ladderMs: options.ladderMs };
    // The setup runs on every (re)connect; the first attempt starts after `broker` is assigned below.
    const holder: { broker?: Broker } = {};
    const connection = new BrokerConnection({
      urls: parseBrokerUrls(options.url),
      connectionName: options.connectionName,
      setup: async (model: ChannelModel) => {
        if (holder.broker !== undefined) await holder.broker.#declareAll(model);
      },
    });
    const broker = new Broker(options, connection, spec);
    holder.broker = broker;
    broker.#watch();
    watchBrokerNode(broker);
    const timeoutMs = options.connectTimeoutMs ?? options.publishTimeoutMs;
    try {
      await broker.whenReady(timeoutMs, options.failWhenRefused === true);
    } catch (error) {
      await broker.close();
      throw error;
    }
    return broker;
  }

  /**
   * Declares the work queue of `queue` now and after every reconnect. Callers that ask at once (the first sends
   * of a batch, 200 in flight) share one declaration, rather than each open a channel and declare it again.
   */
  ensureQueue(queue: string): Promise<void> {
    if (this.#queues.has(queue)) return Promise.resolve();
    let declaring = this.#declaring.get(queue);
    if (declaring === undefined) {
      declaring = this.#declareWorkQueue(queue)
        .then(() => { this.#queues.add(queue); })
        .finally(() => this.#declaring.delete(queue));
      this.#declaring.set(queue, declaring);
    }
    return declaring;
  }

  /** Whether the work queue of `queue` is declared: `ensureQueue` would resolve at once. */
  isDeclared(queue: string): boolean {
    return this.#queues.has(queue);
  }

  async #declareWorkQueue(queue: string): Promise<void> {
    const deadline = Date.now() + this.options.publishTimeoutMs;
    for (;;) {
      const generation = this.generation;
      try {
        await this.withChannel((channel) => declareWorkQueue(channel, this.spec, queue));
        return;
      } catch (error) {
        // A declare cut short by the connection's loss ("Channel ended") is made again once the connection is
        // back, on whichever node: the first send to a queue during a failover waits for it like a publish does.
        await new Promise(setImmediate);
        if (this.#closed || this.fatal || (this.connected && this.generation === generation) || Date.now() >= deadline) throw error;
        await this.whenReady(Math.max(1, deadline - Date.now()));
      }
    }
  }

  /** Consumes the work queue `queue` (declaring it), resuming after every reconnect. */
  async consume(queue: string, handler: DeliveryHandler, options: SubscriptionOptions = {}): Promise<Subscription> {
    await this.ensureQueue(queue);
    return this.consumeRaw(this.names.queue(queue), handler, options);
  }

  /** Consumes any queue by its full name (e.g. `names.deadLetters`), resuming after every reconnect. */
  async consumeRaw(queueName: string, handler: DeliveryHandler, options: SubscriptionOptions = {}): Promise<Subscription> {
    const subscription = new Subscription(this, queueName, handler, options, () => this.#subscriptions.delete(subscription));
    this.#subscriptions.add(subscription);
    await subscription.start();
    return subscription;
  }

  /** Runs `work` on a short-lived channel. A broker error (e.g. 404) closes only that channel. */
  async withChannel<T>(work: (channel: Channel) => Promise<T>): Promise<T> {
    const channel = await this.#connection.createChannel();
    channel.on('error', () => {});
    try {
      return await work(channel);
    } finally {
      await channel.close().catch(() => {});
    }
  }

  createConfirmChannel(): Promise<ConfirmChannel> {
    return this.#connection.createConfirmChannel();
  }

  createChannel(): Promise<Channel> {
    return this.#connection.createChannel();
  }

  get connected(): boolean {
    return this.generation > 0 && !this.#down;
  }

  /** The RabbitMQ node in use (`host:port`), or `undefined` while disconnected. */
  get node(): string | undefined {
    return this.connected ? this.#connection.node : undefined;
  }

  get closed(): boolean {
    return this.#closed;
  }

  #down = true;

  /**
   * Resolves once connected with topology declared; rejects after `timeoutMs`, on a fatal error or on close,
   * and with `failWhenRefused` on a refused connection (see `BrokerOptions.failWhenRefused`).
   */
  whenReady(timeoutMs: number, failWhenRefused = false): Promise<void> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (this.connected) return Promise.resolve();
    if (this.#closed) return Promise.reject(new BrokerUnavailableError('the broker connection is closed'));
    return new Promise((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        this.off('ready', onReady);
        this.off('fatal', onFatal);
        this.#connection.off('reconnect-scheduled', onRoundFailed);
        if (error) reject(error);
        else resolve();
      };
      const onReady = () => done();
      const onFatal = (error: Error) => done(error);
      // Every node refused (one round; a single URL is a round of one).
      const onRoundFailed = ({ error }: { error: NodeJS.ErrnoException }) => {
        if (error.code === 'ECONNREFUSED') done(new BrokerUnavailableError(`${refusedLine(this.options.url)}: start RabbitMQ, or set NIGHTSHIFT_AMQP_URL to where it runs`));
      };
      const timer = setTimeout(() => done(new BrokerUnavailableError(
        `RabbitMQ at ${redactUrl(this.options.url)} did not answer within ${timeoutMs}ms; is it running? (start it, or set NIGHTSHIFT_AMQP_URL)`,
      )), timeoutMs);
      this.on('ready', onReady);
      this.on('fatal', onFatal);
      if (failWhenRefused) this.#connection.on('reconnect-scheduled', onRoundFailed);
    });
  }

  /** Deletes the topology this broker declared (for tests). */
  async deleteTopology(): Promise<void> {
    await this.withChannel((channel) => deleteTopology(channel, this.spec, [...this.#queues]));
    this.#queues.clear();
  }

  /** Waits for in-flight publishes (bounded by the publish timeout), stops subscriptions, closes the connection. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.publisher.flush().catch(() => {});
    this.#closed = true;
    await Promise.all([...this.#subscriptions].map((s) => s.cancel().catch(() => {})));
    this.publisher.stop(new BrokerUnavailableError('the broker connection was closed'));
    await this.#connection.close().catch(() => {});
    this.emit('closed');
  }

  /** Called by amqplib's recovery `setup` on every (re)connect, before the connection counts as up. */
  async #declareAll(model: ChannelModel): Promise<void> {
    coalesceWrites(model);
    if (this.options.declareTopology === false) return;
    const channel = await model.createChannel();
    channel.on('error', () => {});
    try {
      await declareBaseTopology(channel, this.spec);
      for (const queue of this.#queues) await declareWorkQueue(channel, this.spec, queue);
    } catch (error) {
      if (error instanceof TopologyMismatchError) this.#fail(error);
      throw error;
    } finally {
      await channel.close().catch(() => {});
    }
  }

  #fail(error: Error): void {
    if (this.fatal) return;
    this.fatal = error;
    this.log.error({ err: error }, 'the broker refused Nightshift\'s topology; not retrying');
    this.emit('fatal', error);
    void this.#connection.close().catch(() => {});
  }

  #watch(): void {
    const connection = this.#connection;
    connection.on('connect', (_model, node) => {
      this.#down = false;
      this.generation += 1;
      this.log.info({ generation: this.generation, node, url: redactUrl(this.options.url) }, this.generation === 1 ? `connected to RabbitMQ at ${node}` : `reconnected to RabbitMQ at ${node}`);
      this.emit('ready', this.generation);
    });
    connection.on('disconnect', (error: Error) => {
      this.#down = true;
      this.log.warn({ reason: error.message }, `lost the RabbitMQ connection (${error.message}); reconnecting`);
      this.emit('disconnect', error);
    });
    // One line per retry, saying why in words: a refused connection is known at once (nothing listens there).
    connection.on('reconnect-scheduled', ({ attempt, delay, error }: { attempt: number; delay: number; error: NodeJS.ErrnoException }) => {
      const url = redactUrl(this.options.url);
      const why = error.code === 'ECONNREFUSED' ? `${refusedLine(this.options.url)} (is it running? NIGHTSHIFT_AMQP_URL)` : `could not connect to RabbitMQ at ${url}: ${error.message}`;
      this.log.warn({ url, attempt, retryInMs: delay, reason: error.code ?? error.message }, `${why}; retrying in ${(delay / 1000).toFixed(1)}s (attempt ${attempt})`);
    });
    // Of several nodes, each one that fails is said too: the round goes on to the next at once.
    connection.on('connect-failed', (error: Error, node: string) => {
      if (this.options.url.includes(',')) this.log.warn({ node, reason: (error as NodeJS.ErrnoException).code ?? redactUrl(error.message) }, `could not connect to RabbitMQ at ${node}; trying the next node`);
    });
    connection.on('blocked', (reason: string) => this.log.warn({ reason }, 'RabbitMQ blocked publishing (flow control)'));
    connection.on('unblocked', () => this.log.info('RabbitMQ unblocked publishing'));
    // amqplib emits 'error' only for a connection that is closing because of it, and 'close' right after: the
    // disconnect line above already says it with what happens next, so a second warning would only be noise.
    connection.on('error', (error: Error) => this.log.debug({ err: { message: error.message } }, 'RabbitMQ connection error (the disconnect line follows)'));
    connection.on('handler-error', (error: Error, event: string) => this.log.error({ err: error, event }, 'a broker event handler threw'));
  }
}

/** `RabbitMQ at amqp://guest:***@host:5672 refused the connection`, the password masked. */
function refusedLine(url: string): string {
  return `RabbitMQ at ${redactUrl(url)} refused the connection`;
}

/**
 * Coalesces the socket writes of one event-loop turn into one: amqplib writes every frame on its own (an ack,
 * a publish), and with TCP_NODELAY each write is a syscall and a packet. Corking the socket on the first write
 * of a turn and uncorking it on the next lets the kernel send them together. Reaches into amqplib's
 * connection (`connection.stream`); if that shape changes, nothing is patched.
 */
function coalesceWrites(model: ChannelModel): void {
  const stream = (model as unknown as { connection?: { stream?: { cork?: () => void; uncork?: () => void; write?: unknown } } }).connection?.stream;
  if (!stream || typeof stream.cork !== 'function' || typeof stream.uncork !== 'function' || typeof stream.write !== 'function') return;
  const write = stream.write as (...args: unknown[]) => boolean;
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork?.();
  };
  stream.write = (...args: unknown[]): boolean => {
    if (!corked) {
      corked = true;
      stream.cork?.();
      setImmediate(uncork);
    }
    return write.apply(stream, args);
  };
}
