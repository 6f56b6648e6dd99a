// One Nightshift installation for one disaster: `nightshift up` as a real process on a fixture app, with its
// own random prefix (broker objects, Redis keys, PostgreSQL schema), free ports, a fake Slack and a real SMTP
// server, optionally Prometheus. It can be brought up and down several times; `close()` deletes all it made.
import { spawn, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadApp, loadConfig, type AnyApp } from '@nightshift/core';
import { createClient, type Client } from '@nightshift/broker';
import type { Store } from '@nightshift/store';
import { freePort, randomPrefix, removePrefix, requireServices, slackWebhook, smtpServer } from '@nightshift/test-helpers';
import { EventTap } from './event-tap.ts';
import { beatWatermarks, withStore } from './installation-state.ts';
import { startPrometheus, type Prometheus } from './prometheus.ts';
import { ServiceLog } from './service-log.ts';
import { settlesWithin } from './wait.ts';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
/** The `nightshift` command, as `npx nightshift` runs it. */
const NIGHTSHIFT_BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'nightshift.js');

export type ServiceName = 'worker' | 'beat' | 'alerter' | 'health-api';
export const SERVICE_NAMES: readonly ServiceName[] = Object.freeze(['worker', 'beat', 'alerter', 'health-api']);

/** The log line each service prints once it does its job. */
const READY: Readonly<Record<ServiceName, string>> = { worker: 'worker ready', beat: 'beat started', alerter: 'alerter ready', 'health-api': 'health-api ready' };

export interface StackOptions {
  /** Absolute path of the app module `nightshift up --app` runs. */
  readonly app: string;
  /** Names the prefix: `e2e-<label>-ab12cd34`. */
  readonly label: string;
  /** Where every line the services print is appended. Default: `<tmp>/nightshift-e2e-<prefix>.log`. */
  readonly logFile?: string;
  /** Start Prometheus scraping the four services (job names as in deploy/prometheus). Default: `false`. */
  readonly prometheus?: boolean;
  /** More `NIGHTSHIFT_*` settings for the services, over the suite's (short retry ladder, 1 s heartbeat, …). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Stacks created and not closed yet, for a Ctrl-C in the demo to clean up after. */
const open = new Set<Stack>();

export class Stack {
  readonly prefix: string;
  /** The environment `nightshift up` and the `nightshift` commands of this installation run with. */
  readonly env: Readonly<Record<string, string>>;
  readonly app: AnyApp;
  readonly appPath: string;
  readonly log: ServiceLog;
  readonly events: EventTap;
  /** A producer on this installation, as an application sending tasks would have. */
  readonly client: Client<AnyApp>;
  readonly slack: Awaited<ReturnType<typeof slackWebhook>>;
  readonly smtp: Awaited<ReturnType<typeof smtpServer>>;
  readonly metricsPorts: Readonly<Record<ServiceName, number>>;
  readonly prometheus: Prometheus | undefined;
  #up: { readonly child: ChildProcess; readonly exited: Promise<void>; readonly stderr: string[] } | undefined;

  private constructor(parts: {
    prefix: string; env: Record<string, string>; app: AnyApp; appPath: string; log: ServiceLog; events: EventTap; client: Client<AnyApp>;
    slack: Stack['slack']; smtp: Stack['smtp']; metricsPorts: Record<ServiceName, number>; prometheus: Prometheus | undefined;
  }) {
    this.prefix = parts.prefix;
    this.env = Object.freeze(parts.env);
    this.app = parts.app;
    this.appPath = parts.appPath;
    this.log = parts.log;
    this.events = parts.events;
    this.client = parts.client;
    this.slack = parts.slack;
    this.smtp = parts.smtp;
    this.metricsPorts = Object.freeze(parts.metricsPorts);
    this.prometheus = parts.prometheus;
  }

  /** Everything but the services: prefix, ports, fake Slack and SMTP, a producer, the event tap, Prometheus. */
  static async create(options: StackOptions): Promise<Stack> {
    const urls = await requireServices('rabbitmq', 'redis', 'postgres');
    const prefix = randomPrefix(`e2e-${options.label}`);
    const made: (() => Promise<unknown>)[] = [];
    try {
      const slack = await slackWebhook();
      made.push(() => slack.close());
      const smtp = await smtpServer();
      made.push(() => smtp.close());
      const metricsPorts = { worker: await freePort(), beat: await freePort(), alerter: await freePort(), 'health-api': await freePort() };
      const env: Record<string, string> = {
        NIGHTSHIFT_AMQP_URL: urls.amqpUrl, NIGHTSHIFT_REDIS_URL: urls.redisUrl, NIGHTSHIFT_DATABASE_URL: urls.databaseUrl,
        NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix,
        NIGHTSHIFT_RETRY_LADDER: '100ms,1s', NIGHTSHIFT_HEARTBEAT: '1s', NIGHTSHIFT_WORKER_GRACE: '2s', NIGHTSHIFT_LOG_LEVEL: 'info',
        // Two sandboxes whatever the machine: a hung task holds one while the other keeps working.
        NIGHTSHIFT_WORKER_CONCURRENCY: '2',
        NIGHTSHIFT_WORKER_METRICS_PORT: String(metricsPorts.worker), NIGHTSHIFT_BEAT_METRICS_PORT: String(metricsPorts.beat),
        NIGHTSHIFT_ALERTER_METRICS_PORT: String(metricsPorts.alerter), NIGHTSHIFT_HEALTH_API_METRICS_PORT: String(metricsPorts['health-api']),
        NIGHTSHIFT_HTTP_PORT: String(await freePort()),
        NIGHTSHIFT_SLACK_WEBHOOK_URL: slack.url, NIGHTSHIFT_SMTP_URL: smtp.url,
        NIGHTSHIFT_ALERT_EMAIL_FROM: 'nightshift@e2e.test', NIGHTSHIFT_ALERT_EMAIL_TO: 'on-call@e2e.test',
        ...options.env,
      };
      const app = await loadApp(options.app);
      const client = await createClient(loadConfig(env), { app, name: 'e2e' });
      made.push(async () => {
        await client.broker.deleteTopology();
        await client.close();
      });
      const events = await EventTap.open(client.broker);
      const prometheus = options.prometheus
        ? await startPrometheus(Object.fromEntries(SERVICE_NAMES.map((s) => [`nightshift-${s}`, [`127.0.0.1:${metricsPorts[s]}`]])))
        : undefined;
      const log = new ServiceLog(options.logFile ?? join(tmpdir(), `nightshift-e2e-${prefix}.log`));
      log.note(`stack ${prefix} on ${options.app}`);
      const stack = new Stack({ prefix, env, app, appPath: options.app, log, events, client, slack, smtp, metricsPorts, prometheus });
      open.add(stack);
      return stack;
    } catch (error) {
      for (const undo of made.reverse()) await undo().catch(() => {});
      throw error;
    }
  }

  /** Starts `nightshift up --app <app> --json` and resolves once every service says it is ready. */
  async up(): Promise<void> {
    if (this.#up) throw new Error('the stack is already up');
    const since = this.log.records.length;
    const child = spawn(process.execPath, [NIGHTSHIFT_BIN, 'up', '--app', this.appPath, '--json', '--grace', '10s'], {
      cwd: REPO_ROOT, env: { ...process.env, ...this.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    const stderr: string[] = [];
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => this.log.add(line));
    createInterface({ input: child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      stderr.push(line);
      this.log.add(JSON.stringify({ time: new Date().toISOString(), service: 'nightshift', stream: 'stderr', line }));
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    this.#up = { child, exited, stderr };
    const failed = exited.then(() => {
      throw new Error(`nightshift up exited with ${child.exitCode ?? child.signalCode} before its services were ready: ${stderr.join('\n').slice(-2000)}`);
    });
    try {
      await Promise.race([failed, Promise.all(SERVICE_NAMES.map(async (service) => {
        const started = await this.log.waitForSupervisor(service, 'started', (e) => e.seq >= since);
        await this.#ready(service, Number(started.fields.pid));
      }))]);
    } catch (error) {
      failed.catch(() => {});
      await this.down();
      throw error;
    }
    failed.catch(() => {});
  }

  /** Stops `nightshift up` as Ctrl-C does (SIGTERM: each service stops gracefully) and waits for it to exit. */
  async down(): Promise<void> {
    const up = this.#up;
    if (!up) return;
    up.child.kill('SIGTERM');
    if (!(await settlesWithin(up.exited, 30_000))) {
      // A stuck supervisor must not leave services behind: they lead their own process groups.
      for (const service of SERVICE_NAMES) this.#killGroup(this.#lastPid(service));
      up.child.kill('SIGKILL');
      await up.exited;
    }
    this.#up = undefined;
  }

  /** The pid of the service's current process. */
  pid(service: ServiceName): number {
    const pid = this.#lastPid(service);
    if (pid === undefined) throw new Error(`${service} has not started`);
    return pid;
  }

  /** Sends `signal` to the service's process (not to the supervisor) and returns its pid. */
  kill(service: ServiceName, signal: NodeJS.Signals = 'SIGKILL'): number {
    const pid = this.pid(service);
    process.kill(pid, signal);
    return pid;
  }

  /** Waits for the supervisor to start the service again after `oldPid` ended, and for it to be ready. */
  async waitForRestart(service: ServiceName, oldPid: number, timeoutMs = 30_000): Promise<{ readonly pid: number; readonly startedAt: number; readonly readyAt: number; readonly restartingMessage: string }> {
    const from = this.log.supervisorEvents(service, 'started').find((e) => Number(e.fields.pid) === oldPid)?.seq ?? 0;
    const restarting = await this.log.waitForSupervisor(service, 'restarting', (e) => e.seq > from, timeoutMs);
    const started = await this.log.waitForSupervisor(service, 'started', (e) => e.seq > restarting.seq, timeoutMs);
    const pid = Number(started.fields.pid);
    const ready = await this.#ready(service, pid, timeoutMs);
    return { pid, startedAt: started.time, readyAt: ready.time, restartingMessage: restarting.message };
  }

  /** Waits for beat's process `pid` to lead (hold the lease and dispatch); resolves with when it began. */
  async waitForLeader(pid: number, timeoutMs = 30_000): Promise<number> {
    const line = await this.log.waitForLine('beat', /^leader: dispatching/, { where: (l) => l.fields.pid === pid, timeoutMs });
    return line.time;
  }

  /** The `/metrics` text of a service, or `undefined` while it does not answer. */
  async metrics(service: ServiceName): Promise<string | undefined> {
    return fetch(`http://127.0.0.1:${this.metricsPorts[service]}/metrics`).then((r) => (r.ok ? r.text() : undefined), () => undefined);
  }

  /** Runs a `nightshift` command on this installation, as a person at a terminal would. */
  nightshift(args: readonly string[]): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> {
    const child = spawn(process.execPath, [NIGHTSHIFT_BIN, ...args], { cwd: REPO_ROOT, env: { ...process.env, ...this.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  /** Beat's watermark in Redis: entry name → the newest fire time it handled (ms). */
  beatWatermarks(): Promise<Record<string, number>> {
    return beatWatermarks(this.#redisUrl, this.prefix);
  }

  /** Runs `work` on the installation's store (its own PostgreSQL schema). */
  withStore<T>(work: (store: Store) => Promise<T>): Promise<T> {
    return withStore(this.#databaseUrl, this.prefix, work);
  }

  /** Stops everything and deletes every queue, exchange, Redis key and schema this installation made. */
  async close(): Promise<void> {
    open.delete(this);
    const problems: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        problems.push(error);
      }
    };
    await attempt(() => this.down());
    await attempt(async () => this.prometheus?.stop());
    await attempt(() => this.events.close());
    await attempt(() => this.client.close());
    // Queues, exchanges, Redis keys and the schema of the prefix (the schema is named after it).
    await attempt(() => removePrefix({ amqpUrl: this.env.NIGHTSHIFT_AMQP_URL as string, redisUrl: this.#redisUrl, databaseUrl: this.#databaseUrl }, this.prefix));
    await attempt(() => this.slack.close());
    await attempt(() => this.smtp.close());
    if (problems.length > 0) throw new AggregateError(problems, `cleaning up ${this.prefix} failed`);
  }

  get #redisUrl(): string {
    return this.env.NIGHTSHIFT_REDIS_URL as string;
  }

  get #databaseUrl(): string {
    return this.env.NIGHTSHIFT_DATABASE_URL as string;
  }

  async #ready(service: ServiceName, pid: number, timeoutMs = 30_000) {
    return this.log.waitForLine(service, READY[service], { where: (l) => l.fields.pid === pid, timeoutMs });
  }

  #lastPid(service: ServiceName): number | undefined {
    const started = this.log.supervisorEvents(service, 'started').at(-1);
    return started === undefined ? undefined : Number(started.fields.pid);
  }

  #killGroup(pid: number | undefined): void {
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
}

/** Creates a stack, hands it to `work`, and closes it (deleting all it made) however `work` ends. */
export async function withStack<T>(options: StackOptions, work: (stack: Stack) => Promise<T>): Promise<T> {
  const stack = await Stack.create(options);
  let result: T;
  try {
    result = await work(stack);
  } catch (error) {
    // What went wrong in the scenario is the news; a cleanup failing after it would only hide it.
    await stack.close().catch(() => {});
    throw error;
  }
  await stack.close();
  return result;
}

/** Closes every stack not closed yet (what a Ctrl-C in the middle of a scenario leaves). */
export async function closeOpenStacks(): Promise<void> {
  await Promise.allSettled([...open].map((stack) => stack.close()));
}
