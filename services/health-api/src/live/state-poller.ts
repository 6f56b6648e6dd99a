import { broadcastControl, prefixQueues, type Broker, type QueueKind } from '@nightshift/broker';
import type { Logger } from '@nightshift/core';
import type { DeadLetters, ScheduleHealthRecords, ScheduleJudgement, StateCounts, TaskRuns } from '@nightshift/store';
import type { BeatLease } from './beat-lease.ts';
import type { LiveFeed } from './live-feed.ts';
import type { ManagementRates, QueueRates } from './queue-rates.ts';
import type { WorkerRegistry } from './worker-registry.ts';

/** A task queue as last polled. */
export interface QueueView {
  readonly name: string;
  /** Messages ready in the queue (RabbitMQ's message count). */
  readonly depth: number | null;
  readonly consumers: number | null;
  /** Messages per second into the queue. */
  readonly publishRate: number | null;
  /** Messages per second delivered to workers. */
  readonly deliverRate: number | null;
  /**
   * Where the rates come from: `broker`, RabbitMQ's management API; `estimated`, while it cannot be read:
   * deliveries counted from `task.received` events, publishes as the change of depth plus the deliveries.
   */
  readonly rates: 'broker' | 'estimated';
  /** ISO 8601. */
  readonly checkedAt: string | null;
  /** The broker does not have this queue (yet). */
  readonly missing: boolean;
  /** What the queue is for; a work queue's `name` is its logical name, the others' their broker name. */
  readonly kind?: QueueKind;
  /** The broker's name (`nightshift.q.default`). */
  readonly brokerName?: string;
  /** A ladder step's wait in milliseconds. */
  readonly stepMs?: number;
}

/** Outcomes of the runs that finished in the health window. */
export interface FailureWindow {
  readonly succeeded: number;
  readonly failed: number;
  readonly failureRate: number | null;
}

/** What the poller last found; every field says `null` until it was read once. */
export interface Snapshot {
  brokerUp: boolean;
  storeUp: boolean;
  deadLettersPending: number | null;
  window: FailureWindow | null;
  lastHour: StateCounts | null;
  /** Retries that happened in the last hour (the timelines' `retried` entries), not runs waiting to retry now. */
  retriedLastHour: number | null;
  historyRows: number | null;
  /** Each schedule entry's health as the alerter last judged it, by name. */
  schedules: ReadonlyMap<string, ScheduleJudgement> | null;
  queues: Map<string, QueueView>;
  /** The retry ladder's steps and the dead-letters queue, by broker name (not in the backlog: they are not work waiting for a worker). */
  ladder: Map<string, QueueView>;
  /** ISO 8601: the last poll that finished. */
  polledAt: string | null;
  /** Total depth per poll, newest last, at most 720 samples (an hour at the default 5 s). */
  depthHistory: { at: string; depths: Record<string, number> }[];
}

export interface PollerOptions {
  readonly broker: Broker;
  readonly taskRuns: TaskRuns;
  readonly deadLetters: DeadLetters;
  /** The alerter's judgement of each schedule entry. */
  readonly scheduleHealth: ScheduleHealthRecords;
  readonly registry: WorkerRegistry;
  readonly feed: LiveFeed;
  /** Beat's leader lease, read once per poll. */
  readonly lease: BeatLease;
  /** RabbitMQ's management API for queue rates; without it they are estimated. */
  readonly rates?: ManagementRates | undefined;
  readonly logger: Logger;
  /** Queues of the app's tasks, polled even before any worker consumes them. */
  readonly appQueues: readonly string[];
  readonly pollMs: number;
  readonly windowMs: number;
}

/**
 * Keeps the state that health probes and the overview read current, in the background: one ping to the
 * workers, a passive declare per task queue (depth, consumers), a few counts from the store and a read of
 * beat's lease per poll.
 * A probe reads the snapshot and never waits for the broker or the database.
 */
export class StatePoller {
  readonly snapshot: Snapshot = { brokerUp: false, storeUp: false, deadLettersPending: null, window: null, lastHour: null, retriedLastHour: null, historyRows: null, schedules: null, queues: new Map(), ladder: new Map(), polledAt: null, depthHistory: [] };
  readonly #options: PollerOptions;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #lastPollMs = 0;
  #polls = 0;
  #stopped = false;

  constructor(options: PollerOptions) {
    this.#options = options;
  }

  /** Polls once now (so the first probe has answers), then every `pollMs`. */
  async start(): Promise<void> {
    await this.poll();
    const tick = () => {
      if (this.#stopped) return;
      this.#timer = setTimeout(() => void this.poll().finally(tick), this.#options.pollMs);
      this.#timer.unref();
    };
    tick();
  }

  /** Polls now, or joins the poll in progress. */
  poll(): Promise<void> {
    this.#running ??= this.#poll().finally(() => { this.#running = undefined; });
    return this.#running;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }

  async #poll(): Promise<void> {
    const { broker, taskRuns } = this.#options;
    const nowMs = Date.now();
    const elapsedS = this.#lastPollMs === 0 ? undefined : (nowMs - this.#lastPollMs) / 1000;
    this.#lastPollMs = nowMs;
    this.#polls += 1;
    const snapshot = this.snapshot;
    snapshot.brokerUp = broker.connected;
    const pinging = broker.connected ? this.#ping() : Promise.resolve();
    await Promise.all([pinging, this.#pollQueues(elapsedS), this.#pollStore(), this.#options.lease.poll()]);
    snapshot.storeUp = await taskRuns.store.ping();
    if (snapshot.storeUp && (this.#polls % 6 === 1)) snapshot.historyRows = await taskRuns.count().catch(() => snapshot.historyRows);
    snapshot.polledAt = new Date().toISOString();
    const depths: Record<string, number> = {};
    for (const queue of snapshot.queues.values()) if (queue.depth !== null) depths[queue.name] = queue.depth;
    snapshot.depthHistory.push({ at: snapshot.polledAt, depths });
    if (snapshot.depthHistory.length > 720) snapshot.depthHistory.shift();
  }

  async #ping(): Promise<void> {
    const started = Date.now();
    try {
      const replies = await broadcastControl(this.#options.broker, 'ping', {}, { timeoutMs: Math.min(1_000, Math.max(100, this.#options.pollMs / 2)), limit: Math.max(1, this.#options.registry.online().length) });
      for (const reply of replies) this.#options.registry.pinged(reply.worker, Date.now() - started);
    } catch (error) {
      this.#options.logger.debug({ err: { message: (error as Error).message } }, 'ping failed');
    }
  }

  async #pollQueues(elapsedS: number | undefined): Promise<void> {
    const { broker, registry, feed, appQueues } = this.#options;
    const names = [...new Set([...appQueues, ...registry.queues(), ...feed.queuesSeen])].sort();
    const received = feed.takeReceived();
    if (!broker.connected) return;
    const fromBroker = await this.#options.rates?.read();
    for (const name of names) {
      this.snapshot.queues.set(name, { ...await this.#checkQueue(broker.names.queue(name), this.snapshot.queues.get(name), fromBroker, received.get(name) ?? 0, elapsedS), name, kind: 'work' });
    }
    for (const queue of prefixQueues(broker, [])) {
      const view = await this.#checkQueue(queue.name, this.snapshot.ladder.get(queue.name), fromBroker, 0, elapsedS);
      this.snapshot.ladder.set(queue.name, { ...view, kind: queue.kind, ...(queue.stepMs !== undefined ? { stepMs: queue.stepMs } : {}) });
    }
  }

  async #checkQueue(brokerName: string, previous: QueueView | undefined, fromBroker: Map<string, QueueRates> | undefined, received: number, elapsedS: number | undefined): Promise<QueueView> {
    const { broker } = this.#options;
    const measured = fromBroker?.get(brokerName);
    try {
      const info = await broker.withChannel((channel) => channel.checkQueue(brokerName));
      let publishRate = measured?.publish ?? null;
      let deliverRate = measured?.deliver ?? null;
      if (measured === undefined && elapsedS !== undefined) {
        deliverRate = received / elapsedS;
        publishRate = previous?.depth == null ? null : Math.max(0, (info.messageCount - previous.depth) / elapsedS + deliverRate);
      }
      return {
        name: brokerName, brokerName, depth: info.messageCount, consumers: info.consumerCount, publishRate, deliverRate, rates: measured ? 'broker' : 'estimated',
        checkedAt: new Date().toISOString(), missing: false,
      };
    } catch (error) {
      const missing = /NOT_FOUND|404/.test((error as Error).message);
      return {
        name: brokerName, brokerName, depth: missing ? 0 : null, consumers: missing ? 0 : null, publishRate: null, deliverRate: null, rates: 'estimated',
        checkedAt: new Date().toISOString(), missing,
      };
    }
  }

  async #pollStore(): Promise<void> {
    const { taskRuns, deadLetters, scheduleHealth, windowMs } = this.#options;
    try {
      const now = Date.now();
      const [pending, window, hour, schedules, retried] = await Promise.all([
        deadLetters.pendingCount(), taskRuns.stateCounts(new Date(now - windowMs)), taskRuns.stateCounts(new Date(now - 3_600_000)), scheduleHealth.judgements(),
        taskRuns.retriesSince(new Date(now - 3_600_000)),
      ]);
      this.snapshot.retriedLastHour = retried;
      this.snapshot.schedules = schedules;
      const succeeded = window.succeeded ?? 0;
      const failed = (window['dead-lettered'] ?? 0) + (window.failed ?? 0);
      this.snapshot.deadLettersPending = pending;
      this.snapshot.window = { succeeded, failed, failureRate: succeeded + failed === 0 ? null : failed / (succeeded + failed) };
      this.snapshot.lastHour = hour;
    } catch (error) {
      this.#options.logger.debug({ err: { message: (error as Error).message } }, 'could not read counts from the store');
    }
  }
}
