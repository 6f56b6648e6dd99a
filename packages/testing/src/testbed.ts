import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type ChannelModel } from 'amqplib';
import { ConfigError, loadApp, loadConfig, parseBrokerUrls, parseDuration, resolveTaskSettings, type AnyApp, type AnyTask, type Duration, type NightshiftConfig, type TaskArgs } from '@nightshift/core';
import { createClient, type Client, type LifecycleEvent, type SendOptions } from '@nightshift/broker';
import { randomPrefix, requireServices, type ServiceName } from '@nightshift/test-servers';
import { metrics } from '@nightshift/telemetry';
import { startWorker, type StartedWorker } from '@nightshift/worker';
import { OutcomeTracker, type RetriedOutcome, type TaskOutcome } from './outcomes.ts';

export interface TestbedOptions {
  /**
   * Your app module (its default export is `defineApp(...)`): a URL, e.g. `new URL('../app.ts', import.meta.url)`
   * (resolved next to your test file), or a path, absolute or relative to the working directory.
   */
  app: string | URL;
  /**
   * Servers your tasks need besides RabbitMQ; each is checked (or started with testcontainers). With `redis`, the
   * worker keeps its completion records there as in production; without, in its own memory. Default: none.
   */
  services?: readonly Exclude<ServiceName, 'rabbitmq'>[];
  /** Extra `NIGHTSHIFT_*` settings (e.g. `NIGHTSHIFT_LOG_LEVEL`, default `error` here). The prefix is always a fresh random one. */
  env?: Record<string, string>;
  /** How long `outcome` and `run` wait by default. Default: `'30s'`. */
  timeout?: Duration;
}

export interface WorkerStartOptions {
  /** `'threads'` (default, as in production: limits are enforced by killing) or `'inline'`. */
  pool?: 'threads' | 'inline';
  /** Default: `1`. */
  concurrency?: number;
  /** Default: every queue of the app. */
  queues?: readonly string[];
}

/** One isolated Nightshift installation for a test: its own prefix on the real broker, a client, workers, cleanup. */
export interface Testbed {
  /** The `NIGHTSHIFT_*` environment of this installation (give it to processes you spawn). */
  readonly env: Readonly<Record<string, string>>;
  readonly config: NightshiftConfig;
  readonly app: AnyApp;
  readonly client: Client;
  /** Every task event seen so far. */
  readonly events: readonly LifecycleEvent[];
  /** Starts a worker on the app in this process; `close()` stops it. */
  startWorker(options?: WorkerStartOptions): Promise<StartedWorker>;
  /** Sends a task (its arguments are type-checked) or a task by name, and resolves with its id. */
  send<T extends AnyTask>(task: T, args: TaskArgs<T>, options?: SendOptions): Promise<string>;
  send(task: string, args: readonly unknown[], options?: SendOptions): Promise<string>;
  /** Waits for the task to succeed, be dead-lettered or be revoked. */
  outcome(id: string, options?: { timeout?: Duration }): Promise<TaskOutcome>;
  /**
   * Waits for the task's first retry: the failed attempt, its error and the wait before the next (which this does
   * not wait for). Rejects at once if the task ends without one (it succeeded, or failed for good: `PermanentError`).
   */
  retried(id: string, options?: { timeout?: Duration }): Promise<RetriedOutcome>;
  /** `send`, then `outcome`. */
  run<T extends AnyTask>(task: T, args: TaskArgs<T>, options?: SendOptions & { timeout?: Duration }): Promise<TaskOutcome>;
  run(task: string, args: readonly unknown[], options?: SendOptions & { timeout?: Duration }): Promise<TaskOutcome>;
  /** Stops workers, deletes every broker object of this installation, closes connections. */
  close(): Promise<void>;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

export async function createTestbed(options: TestbedOptions): Promise<Testbed> {
  const urls = await requireServices('rabbitmq', ...(options.services ?? []));
  const env: Record<string, string> = {
    NIGHTSHIFT_AMQP_URL: urls.amqpUrl, NIGHTSHIFT_REDIS_URL: urls.redisUrl, NIGHTSHIFT_DATABASE_URL: urls.databaseUrl,
    NIGHTSHIFT_RETRY_LADDER: '100ms,1s,5s,30s', NIGHTSHIFT_HEARTBEAT: '1s', NIGHTSHIFT_WORKER_GRACE: '2s', NIGHTSHIFT_LOG_LEVEL: 'error',
    // The worker's completion records need Redis: on where the test asked for it, else kept in the worker only.
    NIGHTSHIFT_COMPLETION_RECORDS: options.services?.includes('redis') ? 'on' : 'off',
    ...options.env,
    NIGHTSHIFT_PREFIX: randomPrefix('testbed'),
  };
  const config = loadConfig(env);
  const appPath = options.app instanceof URL ? fileURLToPath(options.app) : resolve(options.app);
  if (!existsSync(appPath)) {
    throw new ConfigError(`createTestbed: app ${appPath} does not exist` + (options.app instanceof URL || isAbsolute(options.app)
      ? '' : ` (a relative path is resolved against the working directory, ${process.cwd()}; pass new URL('./app.ts', import.meta.url) to name it from your test file)`));
  }
  const app = await loadApp(appPath);
  const defaultTimeoutMs = parseDuration(options.timeout ?? '30s', 'testbed timeout');
  const client = await createClient(config, { app, name: 'testbed' });
  // The outcome tracker's own connection: any node of a cluster will do.
  const connection: ChannelModel = await connect(parseBrokerUrls(config.amqpUrl)[0] as string);
  const tracker = await OutcomeTracker.open(client.broker, await connection.createChannel());
  const workers: StartedWorker[] = [];
  const send = (task: AnyTask | string, args: readonly unknown[], sendOptions?: SendOptions) =>
    (client.send as (t: AnyTask | string, a: readonly unknown[], o?: SendOptions) => Promise<string>)(task, args, sendOptions);
  const timeoutOf = (waitOptions: { timeout?: Duration }) => (waitOptions.timeout === undefined ? defaultTimeoutMs : parseDuration(waitOptions.timeout, 'timeout'));
  const outcome = (id: string, waitOptions: { timeout?: Duration } = {}) => tracker.outcome(id, timeoutOf(waitOptions));

  return {
    env, config, app, client: client as unknown as Client,
    get events() {
      return tracker.events;
    },
    async startWorker(workerOptions = {}) {
      // The global meter: a no-op, unless the test process started OpenTelemetry's SDK itself.
      const worker = await startWorker({
        appPath, concurrency: workerOptions.concurrency ?? 1, pool: workerOptions.pool ?? 'threads',
        ...(workerOptions.queues ? { queues: workerOptions.queues } : {}),
      }, env, quiet, metrics.getMeter('@nightshift/testing'));
      workers.push(worker);
      return worker;
    },
    send: send as Testbed['send'],
    outcome,
    retried: (id, waitOptions = {}) => tracker.retried(id, timeoutOf(waitOptions)),
    run: (async (task: AnyTask | string, args: readonly unknown[], runOptions: SendOptions & { timeout?: Duration } = {}) => {
      const { timeout, ...sendOptions } = runOptions;
      return outcome(await send(task, args, sendOptions), timeout === undefined ? {} : { timeout });
    }) as Testbed['run'],
    async close() {
      await Promise.all(workers.map((w) => w.stop({ force: true })));
      // The client knows every queue it sent to; the app's own queues may only have been declared by workers.
      for (const queue of new Set(app.tasks.map((t) => resolveTaskSettings(app, t).queue))) await client.broker.ensureQueue(queue);
      await client.broker.deleteTopology();
      await client.close();
      await connection.close().catch(() => {});
    },
  };
}
