import { hostname } from 'node:os';
import { EventPublisher, publishDeadLetter, publishEvent, serveControl, consumeTasks, type Broker, type ControlRequest, type EventType, type ReceivedTask, type Subscription } from '@nightshift/broker';
import { type AnyApp, type Logger, type TaskEnvelope } from '@nightshift/core';
import { ATTR_OUTCOME, trace, type Meter } from '@nightshift/telemetry';
import { emitSignal, eventFields, runAttempt, type RunningAttempt } from './attempt.ts';
import { CompletionRecords, type CompletionRecord } from './completion-records.ts';
import type { WorkerOptions } from './options.ts';
import { createInlinePool, createThreadPool, type SandboxPool } from './sandbox-pool.ts';
import { Slots } from './slots.ts';
import { createWorkerMetrics, type WorkerMetrics } from './worker-metrics.ts';

const REVOKED_REMEMBERED = 10_000;

/**
 * Consumes the app's queues and runs each task in a sandbox with its limits (see `runAttempt`).
 * Answers remote control, sends lifecycle events and heartbeats, and stops gracefully.
 */
export class Worker {
  readonly options: WorkerOptions;
  readonly #broker: Broker;
  readonly #app: AnyApp;
  readonly #log: Logger;
  readonly #pool: SandboxPool;
  readonly #slots: Slots<ReceivedTask>;
  readonly #metrics: WorkerMetrics;
  readonly #events: EventPublisher;
  readonly #running = new Map<string, RunningAttempt>();
  readonly #completions: CompletionRecords;
  /** Attempts running here by `id:attempt`, each until its outcome is recorded: a copy of one waits for it. */
  readonly #underWay = new Map<string, Promise<void>>();
  readonly #handlers = new Set<Promise<void>>();
  readonly #revoked = new Set<string>();
  readonly #subscriptions: Subscription[] = [];
  readonly #startedAt = Date.now();
  #processed = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;

  /** @param meter where the worker's instruments are created (`startTelemetry`'s `meter` in a service). */
  constructor(broker: Broker, app: AnyApp, options: WorkerOptions, log: Logger, meter: Meter) {
    this.#broker = broker;
    this.#app = app;
    this.options = options;
    this.#log = log;
    this.#pool = options.pool === 'threads'
      ? createThreadPool({ size: options.concurrency, appPath: options.appPath, maxOldGenerationSizeMb: options.maxOldGenerationSizeMb, logLevel: options.logLevel }, log)
      : createInlinePool(app, options.concurrency, log);
    // A slot is a place in the pool: a running attempt, or the one ready behind it in its sandbox.
    this.#slots = new Slots(this.#pool.places);
    this.#events = new EventPublisher(broker);
    this.#metrics = createWorkerMetrics(meter, () => ({ busy: this.active, total: options.concurrency }));
    this.#completions = new CompletionRecords({ ...options.completionRecords, prefix: broker.names.prefix, worker: options.name, tasks: options.tasks, log, meter });
    // Series start at 0, so the first retry, kill or dead letter is an increase Prometheus can see.
    for (const task of app.tasks) {
      for (const outcome of ['succeeded', 'retried', 'dead_lettered']) this.#metrics.tasks.add(0, { task: task.name, outcome });
      for (const kind of ['soft', 'hard']) this.#metrics.limitHits.add(0, { task: task.name, kind });
      this.#metrics.retries.add(0, { task: task.name });
      this.#metrics.deadLetters.add(0, { reason: 'failed', task: task.name });
      this.#metrics.duplicatesSuppressed.add(0, { task: task.name, reason: 'completed' });
    }
  }

  /** Starts consuming every queue, answering control, and sending heartbeats. */
  async start(): Promise<void> {
    const { options } = this;
    // Every sandbox has the app loaded before the first message is taken: no task waits for a cold start.
    try {
      await Promise.all([this.#pool.ready(), this.#events.ready(), this.#completions.connect()]);
    } catch (error) {
      await this.#pool.close(); // a sandbox that cannot load the app fails the start, and no thread stays behind
      await this.#completions.close();
      throw error;
    }
    for (const queue of options.queues) {
      // Prefetch beyond the slots so the next task is at hand; waiting ones are the worker's "reserved".
      this.#subscriptions.push(await consumeTasks(this.#broker, queue, (task) => this.#track(this.#receive(task)), {
        prefetch: options.concurrency * 4,
        worker: options.name,
        onDeadLetter: (dead) => {
          this.#metrics.deadLetters.add(1, { reason: dead.reason, task: dead.envelope?.task ?? 'unknown' });
          this.#emit('task.dead-lettered', { ...(dead.envelope ? eventFields(dead.envelope, options.name) : { id: dead.messageId, queue, worker: options.name }), reason: dead.reason, detail: dead.detail });
        },
      }));
    }
    this.#subscriptions.push(await serveControl(this.#broker, options.name, (request) => this.#answer(request)));
    this.#emit('worker.online', this.#status());
    this.#heartbeat = setInterval(() => this.#emit('worker.heartbeat', this.#status()), options.heartbeatMs);
    this.#heartbeat.unref();
    emitSignal(this.#log, 'workerReady', { worker: options.name, queues: options.queues, concurrency: options.concurrency });
    this.#log.info({ worker: options.name, queues: options.queues, concurrency: options.concurrency, pool: options.pool, completionRecords: this.#completions.mode }, 'worker ready');
  }

  /**
   * First call: stop consuming, let running tasks finish within the grace period, then stop the rest and
   * return their messages to the queue. `force` (a second signal) stops running tasks at once. Nothing is lost.
   */
  stop(options: { force?: boolean; reason?: string } = {}): Promise<void> {
    if (options.force) for (const attempt of this.#running.values()) attempt.abandon();
    this.#stopping ??= this.#shutdown(options.reason ?? 'stop requested');
    return this.#stopping;
  }

  /** Attempts running now (started in their sandboxes). */
  get active(): number {
    let started = 0;
    for (const attempt of this.#running.values()) if (attempt.startedAt !== undefined) started += 1;
    return started;
  }

  async #shutdown(reason: string): Promise<void> {
    const { options } = this;
    emitSignal(this.#log, 'workerShuttingDown', { worker: options.name, reason });
    this.#log.info({ reason, running: this.#running.size, graceMs: options.graceMs }, 'stopping: no new tasks; running ones may finish');
    clearInterval(this.#heartbeat);
    await Promise.all(this.#subscriptions.map((s) => s.stopConsuming()));
    for (const waiting of this.#slots.cancelAll()) waiting.delivery.nack(true);
    // Attempts ready in a sandbox behind a running one have not started: back to the queue with the rest.
    for (const attempt of this.#running.values()) if (attempt.startedAt === undefined) attempt.abandon();
    const drained = Promise.allSettled([...this.#handlers]);
    const grace = new Promise<'grace'>((resolve) => setTimeout(resolve, options.graceMs, 'grace').unref());
    if ((await Promise.race([drained.then(() => 'drained' as const), grace])) === 'grace') {
      this.#log.warn({ running: this.#running.size }, 'grace period over: stopping the tasks still running and returning them to their queues');
      for (const attempt of this.#running.values()) attempt.abandon();
      await drained;
    }
    await Promise.all(this.#subscriptions.map((s) => s.cancel()));
    // Going offline is worth a confirm: a dashboard should not have to wait for missed heartbeats.
    await publishEvent(this.#broker, 'worker.offline', this.#status());
    await this.#events.close();
    await this.#broker.publisher.flush();
    await this.#pool.close();
    await this.#completions.close();
  }

  #track(handler: Promise<void>): Promise<void> {
    this.#handlers.add(handler);
    return handler.finally(() => this.#handlers.delete(handler));
  }

  async #receive(received: ReceivedTask): Promise<void> {
    const { envelope, delivery } = received;
    // From a channel that is gone, nothing starts: RabbitMQ has taken the message back (the subscription logs it).
    if (delivery.channelLost.aborted) return;
    const fields = eventFields(envelope, this.options.name);
    this.#emit('task.received', fields);
    if (this.#revoked.has(envelope.id)) {
      delivery.ack();
      this.#emit('task.revoked', { ...fields, terminated: false });
      return;
    }
    if (!this.#app.task(envelope.task)) {
      await publishDeadLetter(this.#broker, delivery.message, {
        reason: 'unknown_task', detail: `no task named ${JSON.stringify(envelope.task)} in app "${this.#app.name}" on ${this.options.name}`,
        worker: this.options.name, attempts: envelope.attempt, originalQueue: envelope.queue,
      });
      delivery.ack();
      this.#metrics.deadLetters.add(1, { reason: 'unknown_task', task: envelope.task });
      this.#emit('task.dead-lettered', { ...fields, reason: 'unknown_task' });
      return;
    }
    // Its channel closing while it waits for a place ends the wait: RabbitMQ delivers it again.
    const withdraw = () => this.#slots.withdraw((waiting) => waiting === received);
    delivery.channelLost.addEventListener('abort', withdraw, { once: true });
    const granted = await this.#slots.acquire(received);
    delivery.channelLost.removeEventListener('abort', withdraw);
    if (!granted) return; // shutdown (already returned to the queue), or its channel closed
    if (delivery.channelLost.aborted) {
      this.#slots.release();
      return;
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#slots.release();
    };
    try {
      if (this.#revoked.has(envelope.id)) {
        delivery.ack();
        this.#emit('task.revoked', { ...fields, terminated: false });
        return;
      }
      const key = `${envelope.id}:${envelope.attempt}`;
      // A copy of an attempt running here (its channel died and RabbitMQ delivered it again to us) waits for it:
      // it then finds its record, rather than run after it from the place behind it in the sandbox.
      await this.#underWay.get(key);
      const finished = await this.#completions.finished(envelope);
      if (delivery.channelLost.aborted) return; // closed while it waited or was checked: RabbitMQ delivers it again
      if (finished !== undefined) {
        this.#suppress(received, finished, fields);
        return;
      }
      // The slot is free the moment the sandbox is: the next attempt need not wait for this one's ack and events.
      const run = runAttempt(this.#deps(), received, (attempt) => {
        this.#running.set(envelope.id, attempt);
        return () => {
          this.#running.delete(envelope.id);
          release();
        };
      });
      const underWay = run.then(() => {}, () => {});
      this.#underWay.set(key, underWay);
      try {
        await run;
      } finally {
        if (this.#underWay.get(key) === underWay) this.#underWay.delete(key);
      }
      this.#processed += 1;
    } finally {
      release();
    }
  }

  /** Acks a duplicate of an attempt that finished, without running it; counted, on the task's timeline, and logged. */
  #suppress(received: ReceivedTask, finished: CompletionRecord, fields: Record<string, unknown>): void {
    const { envelope, delivery } = received;
    delivery.ack();
    trace.getActiveSpan()?.setAttribute(ATTR_OUTCOME, 'duplicate_suppressed');
    this.#metrics.duplicatesSuppressed.add(1, { task: envelope.task, reason: 'completed' });
    const finishedBy = { outcome: finished.outcome, ...(finished.worker ? { finishedBy: finished.worker } : {}), ...(finished.at ? { finishedAt: finished.at } : {}) };
    this.#emit('task.duplicate-suppressed', { ...fields, reason: 'completed', ...finishedBy, redelivered: received.redelivered, deliveryCount: received.deliveryCount - 1 });
    this.#log.info({ task: envelope.task, task_id: envelope.id, attempt: envelope.attempt, reason: 'completed', ...finishedBy },
      `a duplicate of ${envelope.task} attempt ${envelope.attempt} was acknowledged without running: that attempt already finished (${finished.outcome})`);
  }

  #deps() {
    return {
      broker: this.#broker, app: this.#app, options: this.options, pool: this.#pool, metrics: this.#metrics, log: this.#log, completions: this.#completions,
      emit: (type: EventType, fields: Record<string, unknown>) => this.#emit(type, fields),
    };
  }

  #answer(request: ControlRequest): unknown {
    const now = Date.now();
    switch (request.command) {
      case 'ping': return { ok: 'pong' };
      case 'active': return [...this.#running.values()].flatMap((a) => (a.startedAt === undefined ? [] : [{ ...eventFields(a.envelope, this.options.name), args: a.envelope.args, startedAt: new Date(a.startedAt).toISOString(), runningMs: now - a.startedAt }]));
      case 'reserved': return this.#reserved().map((envelope) => ({ ...eventFields(envelope, this.options.name), args: envelope.args }));
      case 'stats': return this.#status();
      case 'registered': return this.#app.tasks.map((t) => t.name);
      case 'revoke': return this.#revoke(String(request.args.id ?? ''), request.args.terminate === true);
      default: return undefined;
    }
  }

  #revoke(id: string, terminate: boolean): unknown {
    if (!id) return { ok: false, error: 'revoke needs an id' };
    this.#revoked.add(id);
    if (this.#revoked.size > REVOKED_REMEMBERED) this.#revoked.delete(this.#revoked.values().next().value as string);
    const running = this.#running.get(id);
    // One waiting in its sandbox for the task before it has not started: it is dropped there, i.e. skipped.
    const waiting = running !== undefined && running.startedAt === undefined;
    if (running && (terminate || waiting)) running.terminate();
    return { ok: true, id, state: !running || waiting ? 'will be skipped' : (terminate ? 'terminated' : 'running (not terminated)') };
  }

  /** Received and not started: ready in a sandbox behind a running task, or waiting for a place. */
  #reserved(): TaskEnvelope[] {
    const inSandboxes = [...this.#running.values()].filter((a) => a.startedAt === undefined).map((a) => a.envelope);
    return [...inSandboxes, ...this.#slots.reserved.map((r) => r.envelope)];
  }

  #status(): Record<string, unknown> {
    return {
      worker: this.options.name, host: hostname(), pid: process.pid, version: process.env.npm_package_version ?? '0.1.0',
      queues: this.options.queues, concurrency: this.options.concurrency, pool: this.options.pool,
      active: this.active, reserved: this.#reserved().length, processed: this.#processed,
      uptimeMs: Date.now() - this.#startedAt,
    };
  }

  #emit(type: EventType, fields: Record<string, unknown>): void {
    this.#events.publish(type, fields);
  }
}
