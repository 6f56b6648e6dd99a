import type { Broker } from '@nightshift/broker';
import type { Logger } from '@nightshift/core';
import type { WorkerRegistry } from './worker-registry.ts';

/** How often the workers' control queues are checked. */
const CHECK_MS = 1_000;

/**
 * Finds a worker that died without a goodbye (`kill -9`, its host gone) within about a second, without waiting
 * for 3 missed heartbeats: each worker online has an auto-delete control queue (`control.<worker>`) that RabbitMQ
 * deletes as soon as the worker's connection closes. A check that finds it gone, or without its consumer, marks
 * the worker `lost`.
 */
export class WorkerLiveness {
  readonly #broker: Broker;
  readonly #registry: WorkerRegistry;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  #checking: Promise<void> | undefined;

  constructor(broker: Broker, registry: WorkerRegistry, log: Logger) {
    this.#broker = broker;
    this.#registry = registry;
    this.#log = log;
  }

  start(): void {
    this.#timer = setInterval(() => { this.#checking ??= this.check().finally(() => { this.#checking = undefined; }); }, CHECK_MS);
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#checking;
  }

  /** Checks every worker online now. */
  async check(): Promise<void> {
    if (!this.#broker.connected) return; // the broker is away: its queues say nothing of the workers
    for (const worker of this.#registry.online()) {
      const queue = `${this.#broker.names.control}.${worker.name}`;
      try {
        const info = await this.#broker.withChannel((channel) => channel.checkQueue(queue));
        if (info.consumerCount === 0) this.#registry.lost(worker.name);
      } catch (error) {
        if (/NOT_FOUND|404/.test((error as Error).message)) this.#registry.lost(worker.name);
        else this.#log.debug({ err: { message: (error as Error).message }, worker: worker.name }, 'could not check a worker\'s control queue');
      }
    }
  }
}
