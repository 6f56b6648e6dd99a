import { hostname } from 'node:os';
import { EventPublisher, publishDeadLetter, publishEvent, serveControl, consumeTasks, type Broker, type ControlRequest, type EventType, type ReceivedTask, type Subscription } from '@nightshift/broker';
import { type AnyApp, type Logger, type RateLimit, type TaskEnvelope } from '@nightshift/core';
import { ATTR_OUTCOME, trace, type Meter } from '@nightshift/telemetry';
import { emitSignal, eventFields, runAttempt, type RunningAttempt } from './attempt.ts';
import { CompletionRecords, type ClaimVerdict, type CompletionRecord } from './completion-records.ts';
import type { WorkerOptions } from './options.ts';
import { Autoscaler } from './autoscaler.ts';
import { defaultPoolBounds, trackPool, type PoolBounds, type TrackedPool } from './pool-control.ts';
import { RateLimits } from './rate-limits.ts';
import { RetryRescue } from './retry-rescue.ts';
import { Revocations } from './revocations.ts';
import { createInlinePool, createThreadPool, type SandboxPool } from './sandbox-pool.ts';
import { Slots } from './slots.ts';
import { answerWorkerControl, isWorkerControl, type ControlTarget } from './worker-control.ts';
import { createWorkerMetrics, type WorkerMetrics } from './worker-metrics.ts';

/** How often a copy held for an attempt running on another worker asks again whether it finished. */
const HOLD_RECHECK_MS = 250;

/**
 * Consumes the app's queues and runs each task in a sandbox with its limits (see `runAttempt`).
 * Answers remote control, sends lifecycle events and heartbeats, and stops gracefully.
 */
export class Worker {
  readonly options: WorkerOptions;
  readonly #broker: Broker;
  readonly #app: AnyApp;
  readonly #log: Logger;
  /** Replaced whole by a pool restart, grow or shrink (pool-control.ts); the old one closes when drained. */
  #pool: TrackedPool;
  readonly #retiring = new Set<Promise<void>>();
  #poolSize: number;
  #bounds: PoolBounds;
  #poolChange: Promise<unknown> = Promise.resolve();
  readonly #autoscaler: Autoscaler;
  readonly #rateLimits: RateLimits;
  readonly #rateLimited = new Set<TaskEnvelope>();
  readonly #revocations: Revocations;
  readonly #consumers = new Map<string, Subscription>();
  readonly #stopSignal = new AbortController();
  #requestShutdown: (reason: string) => void = () => {};
  /** Resolves with the reason when remote control asked this worker to shut down (main.ts then stops it as a signal would). */
  readonly shutdownRequested = new Promise<string>((resolve) => { this.#requestShutdown = resolve; });
  readonly #slots: Slots<ReceivedTask>;
  readonly #metrics: WorkerMetrics;
  readonly #events: EventPublisher;
  readonly #running = new Map<string, RunningAttempt>();
  readonly #completions: CompletionRecords;
  readonly #rescue: RetryRescue;
  /** Attempts arrived here by `id:attempt`, each from its arrival until its outcome is recorded (or it is let go): a copy of one waits for it. */
  readonly #underWay = new Map<string, Promise<void>>();
  readonly #handlers = new Set<Promise<void>>();
  readonly #subscriptions: Subscription[] = [];
  readonly #startedAt = Date.now();
  #processed = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #stopping: Promise<void> | undefined;

  /**
   * @param meter where the worker's instruments are created (`startTelemetry`'s `meter` in a service).
   * @param pool its sandboxes, if made before the broker connected (`createWorkerPool`); the worker closes it.
   */
  constructor(broker: Broker, app: AnyApp, options: WorkerOptions, log: Logger, meter: Meter, pool?: SandboxPool) {
    this.#broker = broker;
    this.#app = app;
    this.options = options;
    this.#log = log;
    this.#poolSize = options.concurrency;
    this.#bounds = options.autoscale ?? defaultPoolBounds(options.concurrency);
    this.#pool = pool === undefined ? this.#createPool(options.concurrency) : trackPool(pool);
    this.#rateLimits = new RateLimits(app.tasks.map((task) => [task.name, task.rate]));
    this.#revocations = new Revocations({ redisUrl: options.redisUrl, prefix: broker.names.prefix, log });
    // A slot is a place in the pool: a running attempt, or one ready behind it in its sandbox.
    this.#slots = new Slots(this.#pool.places);
    this.#followPlaces(this.#pool);
    this.#autoscaler = this.#createAutoscaler();
    this.#events = new EventPublisher(broker);
    this.#metrics = createWorkerMetrics(meter, () => ({ busy: this.active, total: this.#poolSize }));
    this.#completions = new CompletionRecords({ ...options.completionRecords, prefix: broker.names.prefix, worker: options.name, tasks: options.tasks, log, meter });
    this.#rescue = new RetryRescue({ broker, completions: this.#completions, queues: () => [...this.#consumers.keys()], afterMs: options.completionRecords.rescueAfterMs, log, meter });
    // Series start at 0, so the first retry, kill or dead letter is an increase Prometheus can see.
    for (const task of app.tasks) {
      for (const outcome of ['succeeded', 'retried', 'dead_lettered']) this.#metrics.tasks.add(0, { task: task.name, outcome });
      for (const kind of ['soft', 'hard']) this.#metrics.limitHits.add(0, { task: task.name, kind });
      this.#metrics.retries.add(0, { task: task.name });
      this.#metrics.deadLetters.add(0, { reason: 'failed', task: task.name });
      for (const reason of ['completed', 'in_flight']) this.#metrics.duplicatesSuppressed.add(0, { task: task.name, reason });
    }
  }

  /** Starts consuming every queue, answering control, and sending heartbeats. */
  async start(): Promise<void> {
    const { options } = this;
    // Every sandbox has the app loaded before the first message is taken: no task waits for a cold start.
    // Meanwhile the queues are declared, so consuming starts with the last sandbox ready.
    try {
      await Promise.all([
        this.#pool.ready(), this.#events.ready(), this.#completions.connect(), this.#revocations.start(),
        ...options.queues.map((queue) => this.#broker.ensureQueue(queue)),
      ]);
    } catch (error) {
      await this.#pool.close(); // a sandbox that cannot load the app fails the start, and no thread stays behind
      await this.#completions.close();
      await this.#revocations.close();
      throw error;
    }
    for (const queue of options.queues) await this.#consume(queue);
    this.#subscriptions.push(await serveControl(this.#broker, options.name, (request) => this.#answer(request)));
    this.#rescue.start();
    this.#emit('worker.online', this.#status());
    this.#heartbeat = setInterval(() => this.#emit('worker.heartbeat', this.#status()), options.heartbeatMs);
    this.#heartbeat.unref();
    if (options.autoscale !== undefined) this.#autoscaler.start();
    this.#log.debug({ revoked: this.#revocations.size }, 'revokes known at start');
    emitSignal(this.#log, 'workerReady', { worker: options.name, queues: options.queues, concurrency: options.concurrency });
    this.#log.info({ worker: options.name, queues: options.queues, concurrency: options.concurrency, pool: options.pool, completionRecords: this.#completions.mode }, 'worker ready');
  }

  /**
   * First call: stop consuming, let running tasks finish within the grace period, then stop the rest and
   * return their messages to the queue. `force` (a second signal) stops running tasks at once. Nothing is lost.
   */
  stop(options: { force?: boolean; reason?: string } = {}): Promise<void> {
    this.#stopSignal.abort();
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
    this.#autoscaler.stop();
    await this.#rescue.stop();
    await Promise.all([...this.#subscriptions, ...this.#consumers.values()].map((s) => s.stopConsuming()));
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
    await Promise.all([...this.#subscriptions, ...this.#consumers.values()].map((s) => s.cancel()));
    // Going offline is worth a confirm: a dashboard should not have to wait for missed heartbeats.
    await publishEvent(this.#broker, 'worker.offline', this.#status());
    await this.#events.close();
    await this.#broker.publisher.flush();
    await this.#poolChange; // a replacement under way ends first (it gives up, closing its new pool)
    await this.#pool.close();
    await Promise.all(this.#retiring);
    await this.#completions.close();
    await this.#revocations.close();
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
    if (this.#revocations.has(envelope.id)) {
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
    const key = `${envelope.id}:${envelope.attempt}`;
    // Copies of one attempt here (a republish right behind the first, or RabbitMQ delivering again the copy of a
    // lost channel) take turns from the moment they arrive: a copy waits for the one before it to be recorded (or
    // let go), then finds its record rather than run beside or after it. Taken before any wait, so two copies of
    // one batch never both pass the check (each would find the claim its own).
    const local = this.#underWay.get(key);
    let settle!: () => void;
    const underWay = new Promise<void>((resolve) => { settle = resolve; });
    this.#underWay.set(key, underWay);
    try {
      const waitStartedAt = Date.now();
      if (local !== undefined) await local;
      // One round trip: finished already (a duplicate), or claimed for this worker, or running on another.
      let verdict = await this.#completions.claim(envelope);
      let heldBy = local === undefined ? undefined : this.#completions.holder;
      if (verdict.state === 'held') {
        heldBy = verdict.holder;
        const after = await this.#holdWhileHeld(received, verdict);
        if (after === undefined) return; // its channel closed (RabbitMQ delivers it again) or the worker stops (returned)
        verdict = after;
      }
      if (delivery.channelLost.aborted) {
        if (verdict.state === 'claimed') await this.#completions.release(envelope);
        return; // closed while it was checked: RabbitMQ delivers it again
      }
      if (verdict.state === 'finished') {
        this.#suppress(received, verdict.record, fields, heldBy === undefined ? undefined : { heldBy, heldMs: Date.now() - waitStartedAt });
        return;
      }
      if (heldBy !== undefined && verdict.state === 'claimed' && local === undefined) {
        this.#log.warn({ task: envelope.task, task_id: envelope.id, attempt: envelope.attempt, heldBy, heldMs: Date.now() - waitStartedAt, leaseMs: this.#completions.leaseMs },
          `${envelope.task} attempt ${envelope.attempt} is run here: ${heldBy}, which ran it, stopped renewing its claim without an outcome (it died or lost Redis), so the attempt runs again (at-least-once)`);
      }
      await this.#place(received, fields);
    } finally {
      if (this.#underWay.get(key) === underWay) this.#underWay.delete(key);
      settle();
    }
  }

  /**
   * A copy of an attempt another worker runs now: not run and not acked, it waits (without a place in a sandbox)
   * and asks again until the claim is gone (the record then says it finished: a duplicate) or its lease ran out
   * unrenewed (the holder died: it is claimed here and runs). `undefined`: its channel closed, or the worker stops
   * (then it goes back to its queue).
   */
  async #holdWhileHeld(received: ReceivedTask, first: ClaimVerdict): Promise<ClaimVerdict | undefined> {
    const { envelope, delivery } = received;
    let verdict = first;
    if (verdict.state === 'held') {
      this.#log.info({ task: envelope.task, task_id: envelope.id, attempt: envelope.attempt, heldBy: verdict.holder, leaseLeftMs: verdict.leaseLeftMs },
        `a copy of ${envelope.task} attempt ${envelope.attempt} arrived while ${verdict.holder} runs it: held here, not run, until that run's outcome is recorded or its claim's lease runs out`);
    }
    const stop = AbortSignal.any([delivery.channelLost, this.#stopSignal.signal]);
    while (verdict.state === 'held') {
      const pause = Math.min(HOLD_RECHECK_MS, verdict.leaseLeftMs + 20);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, pause);
        stop.addEventListener('abort', () => { clearTimeout(timer); resolve(); }, { once: true });
      });
      if (delivery.channelLost.aborted) return undefined;
      if (this.#stopSignal.signal.aborted) {
        delivery.nack(true);
        return undefined;
      }
      verdict = await this.#completions.claim(envelope);
    }
    return verdict;
  }

  /** Runs a claimed delivery once it has a place in a sandbox; the claim is let go on every way out without an outcome. */
  async #place(received: ReceivedTask, fields: Record<string, unknown>): Promise<void> {
    const { envelope, delivery } = received;
    // Its channel closing while it waits for a place ends the wait: RabbitMQ delivers it again.
    // Over its task's rate limit it waits here, unacknowledged; a shutdown or a lost channel returns it to the queue.
    if (this.#rateLimits.get(envelope.task) !== undefined) {
      this.#rateLimited.add(envelope); // reserved while it waits for its turn
      const allowed = await this.#rateLimits.take(envelope.task, AbortSignal.any([this.#stopSignal.signal, delivery.channelLost]));
      this.#rateLimited.delete(envelope);
      if (!allowed) {
        if (!delivery.channelLost.aborted) delivery.nack(true);
        await this.#completions.release(envelope);
        return;
      }
    }
    // Its channel closing while it waits for a place ends the wait: RabbitMQ delivers it again.
    const withdraw = () => this.#slots.withdraw((waiting) => waiting === received);
    delivery.channelLost.addEventListener('abort', withdraw, { once: true });
    const granted = await this.#slots.acquire(received);
    delivery.channelLost.removeEventListener('abort', withdraw);
    if (!granted) {
      await this.#completions.release(envelope); // shutdown (already returned to the queue), or its channel closed
      return;
    }
    if (delivery.channelLost.aborted) {
      this.#slots.release();
      await this.#completions.release(envelope);
      return;
    }
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#slots.release();
    };
    try {
      if (this.#revocations.has(envelope.id)) {
        delivery.ack();
        await this.#completions.release(envelope);
        this.#emit('task.revoked', { ...fields, terminated: false });
        return;
      }
      // The slot is free the moment the sandbox is: the next attempt need not wait for this one's ack and events.
      try {
        await runAttempt(this.#deps(), received, (attempt) => {
          this.#running.set(envelope.id, attempt);
          return () => {
            this.#running.delete(envelope.id);
            release();
          };
        });
      } catch (error) {
        await this.#completions.release(envelope); // no outcome recorded (its publish failed): not held for a lease
        throw error;
      }
    } finally {
      release();
    }
  }

  /**
   * Acks a duplicate of an attempt that finished, without running it; counted, on the task's timeline, and logged.
   * `held`: it had arrived while the attempt ran (here or on `heldBy`) and was held until its outcome (`in_flight`).
   */
  #suppress(received: ReceivedTask, finished: CompletionRecord, fields: Record<string, unknown>, held: { heldBy: string; heldMs: number } | undefined): void {
    const { envelope, delivery } = received;
    const reason = held === undefined ? 'completed' : 'in_flight';
    delivery.ack();
    trace.getActiveSpan()?.setAttribute(ATTR_OUTCOME, 'duplicate_suppressed');
    this.#metrics.duplicatesSuppressed.add(1, { task: envelope.task, reason });
    const finishedBy = { outcome: finished.outcome, ...(finished.worker ? { finishedBy: finished.worker } : {}), ...(finished.at ? { finishedAt: finished.at } : {}) };
    this.#emit('task.duplicate-suppressed', { ...fields, reason, ...finishedBy, ...held, redelivered: received.redelivered, deliveryCount: received.deliveryCount - 1 });
    const why = held === undefined
      ? `that attempt already finished (${finished.outcome})`
      : `it arrived while that attempt was running on ${held.heldBy} and was held ${held.heldMs} ms until it finished (${finished.outcome})`;
    this.#log.info({ task: envelope.task, task_id: envelope.id, attempt: envelope.attempt, reason, ...finishedBy, ...held },
      `a duplicate of ${envelope.task} attempt ${envelope.attempt} was acknowledged without running: ${why}`);
  }

  #deps() {
    return {
      broker: this.#broker, app: this.#app, options: this.options, pool: this.#pool, metrics: this.#metrics, log: this.#log, completions: this.#completions,
      emit: (type: EventType, fields: Record<string, unknown>) => this.#emit(type, fields),
    };
  }

  #answer(request: ControlRequest): unknown {
    if (isWorkerControl(request.command)) {
      return answerWorkerControl(this.#controlTarget(), { ...request, command: request.command }).then((outcome) => {
        // The dashboard shows the new pool, bounds, consumers or limits now, not at the next heartbeat. Not after a
        // shutdown: batched, that heartbeat could land after the goodbye and bring the worker back online there.
        if (outcome.ok && !this.#stopSignal.signal.aborted && request.command !== 'shutdown') this.#emit('worker.heartbeat', this.#status());
        return outcome;
      });
    }
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
    this.#revocations.add(id);
    const running = this.#running.get(id);
    // One waiting in its sandbox for the task before it has not started: it is dropped there, i.e. skipped.
    const waiting = running !== undefined && running.startedAt === undefined;
    if (running && (terminate || waiting)) running.terminate();
    return { ok: true, id, state: !running || waiting ? 'will be skipped' : (terminate ? 'terminated' : 'running (not terminated)') };
  }

  /** Received and not started: ready in a sandbox behind a running task, waiting for a place, or for its rate limit. */
  #reserved(): TaskEnvelope[] {
    const inSandboxes = [...this.#running.values()].filter((a) => a.startedAt === undefined).map((a) => a.envelope);
    return [...inSandboxes, ...this.#slots.reserved.map((r) => r.envelope), ...this.#rateLimited];
  }

  #status(): Record<string, unknown> {
    return {
      worker: this.options.name, host: hostname(), pid: process.pid, version: process.env.npm_package_version ?? '0.1.0',
      queues: [...this.#consumers.keys()], concurrency: this.#poolSize, pool: this.options.pool,
      autoscale: {
        ...this.#bounds, byLoad: this.#autoscaler.following, keepaliveMs: this.#autoscaler.keepaliveMs, lastChange: this.#autoscaler.last ?? null,
      },
      rateLimits: this.#rateLimits.snapshot(),
      active: this.active, reserved: this.#reserved().length, processed: this.#processed,
      uptimeMs: Date.now() - this.#startedAt,
    };
  }

  async #consume(queue: string): Promise<void> {
    const { options } = this;
    // Prefetch well beyond the slots: a message spends longer on its way (RabbitMQ's delivery, the completion check,
    // then the record and the ack) than in a sandbox running a short task, so the sandboxes' next tasks must already
    // be on their way while they run. Waiting ones are the worker's "reserved".
    this.#consumers.set(queue, await consumeTasks(this.#broker, queue, (task) => this.#track(this.#receive(task)), {
      prefetch: options.prefetch,
      worker: options.name,
      onDeadLetter: (dead) => {
        this.#metrics.deadLetters.add(1, { reason: dead.reason, task: dead.envelope?.task ?? 'unknown' });
        this.#emit('task.dead-lettered', { ...(dead.envelope ? eventFields(dead.envelope, options.name) : { id: dead.messageId, queue, worker: options.name }), reason: dead.reason, detail: dead.detail });
      },
    }));
  }

  #createPool(size: number): TrackedPool {
    const { options } = this;
    return trackPool(options.pool === 'threads'
      ? createThreadPool({ size, appPath: options.appPath, maxOldGenerationSizeMb: options.maxOldGenerationSizeMb, logLevel: options.logLevel }, this.#log)
      : createInlinePool(this.#app, size, this.#log, options.logLevel));
  }

  /** A warm pool of `size` takes new attempts; the old one closes when the attempts it took have ended. One change at a time. */
  #replacePool(size: number): Promise<void> {
    const change = this.#poolChange.then(async () => {
      if (this.#stopping) throw new Error('the worker is shutting down');
      const fresh = this.#createPool(size);
      try {
        await fresh.ready();
        // Stopped while it warmed (an autoscale tick, a control): the shutdown closes the pool it knows, not this one.
        if (this.#stopping) throw new Error('the worker is shutting down');
      } catch (error) {
        await fresh.close();
        throw error;
      }
      const old = this.#pool;
      this.#pool = fresh;
      this.#poolSize = size;
      old.onPlaces = undefined;
      this.#slots.resize(fresh.places);
      this.#followPlaces(fresh);
      const retired = old.drained().then(() => old.close()).finally(() => this.#retiring.delete(retired));
      this.#retiring.add(retired);
      this.#log.info({ size }, `pool replaced: ${size} sandboxes take new tasks; the old pool closes when its tasks have finished`);
    });
    this.#poolChange = change.catch(() => {});
    return change;
  }

  /** The slots follow the places of the pool taking new attempts (a thread pool's change as its tasks turn out quick or long). */
  #followPlaces(pool: TrackedPool): void {
    pool.onPlaces = (places) => {
      if (this.#pool === pool) this.#slots.resize(places);
    };
  }

  #createAutoscaler(): Autoscaler {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getters below read this worker's current state
    const worker = this;
    return new Autoscaler({
      get size() { return worker.#poolSize; },
      get bounds() { return worker.#bounds; },
      // Attempts in the sandboxes (running, or ready behind one) and those waiting for a place.
      get demand() { return worker.#running.size + worker.#slots.reserved.length; },
      resize: (size) => this.#replacePool(size),
      // The dashboard hears of the new size now, not at the next heartbeat.
      changed: () => this.#emit('worker.heartbeat', this.#status()),
    }, { keepaliveMs: this.options.autoscaleKeepaliveMs, log: this.#log });
  }

  #controlTarget(): ControlTarget {
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the getters below read this worker's current state
    const worker = this;
    return {
      get poolSize() { return worker.#poolSize; },
      get bounds() { return worker.#bounds; },
      // Consumers hold at least twice this many (RabbitMQ keeps a consumer's prefetch), and each sandbox 2 places.
      largestPool: this.options.largestPool,
      get queues() { return [...worker.#consumers.keys()]; },
      shutdown: (reason) => {
        this.#log.info({ reason }, 'shutdown asked by remote control');
        this.#requestShutdown(reason);
      },
      replacePool: async (size) => {
        await this.#replacePool(size);
        this.#autoscaler.resized();
      },
      setBounds: (bounds) => {
        this.#bounds = bounds;
        // Bounds set by hand are followed from now on, as Celery's autoscale control does.
        this.#autoscaler.start();
      },
      addConsumer: (queue) => this.#consume(queue),
      cancelConsumer: async (queue) => {
        const consumer = this.#consumers.get(queue);
        this.#consumers.delete(queue);
        await consumer?.stopConsuming();
        // Its channel closes once the tasks it delivered are settled: nothing it received goes back unrun.
        void consumer?.cancel({ waitForHandlers: true });
      },
      knowsTask: (task) => this.#app.task(task) !== undefined,
      setRateLimit: (task: string, limit: RateLimit | undefined) => this.#rateLimits.set(task, limit),
    };
  }

  #emit(type: EventType, fields: Record<string, unknown>): void {
    this.#events.publish(type, fields);
  }
}
