import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { after, before } from 'node:test';
import { connect, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { Redis } from 'ioredis';
import { decode, loadConfig, type Logger, type NightshiftConfig, type TaskEnvelope } from '@nightshift/core';
import { Broker, brokerOptions, parseEvents } from '@nightshift/broker';
import { createLogger, startTelemetry, type Telemetry } from '@nightshift/telemetry';
import { randomPrefix, requireServices } from '@nightshift/test-helpers';

export { TcpProxy } from '@nightshift/test-helpers';

/** The config of one test: its own random prefix, short publish timeout. */
export async function testConfig(label: string, overrides: Record<string, string> = {}): Promise<NightshiftConfig> {
  const { amqpUrl, redisUrl } = await requireServices('rabbitmq', 'redis');
  return loadConfig({ NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_PREFIX: randomPrefix(label), NIGHTSHIFT_PUBLISH_TIMEOUT: '5s', ...overrides });
}

/** Deletes every Redis key and broker object of a test's prefix (the work queues named must be listed). */
export async function cleanupPrefix(config: NightshiftConfig, queues: readonly string[]): Promise<void> {
  const redis = new Redis(config.redisUrl);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${config.prefix}:*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
  const broker = await Broker.connect(brokerOptions(config, 'beat-test-cleanup'));
  try {
    for (const queue of queues) await broker.ensureQueue(queue);
    await broker.deleteTopology();
  } finally {
    await broker.close();
  }
}

export interface Received {
  readonly envelope: TaskEnvelope;
  readonly messageId: string | undefined;
  readonly headers: Record<string, unknown>;
  readonly receivedAt: number;
}

/** Consumes a work queue (acking everything) and keeps what arrived. */
export class QueueTap {
  readonly received: Received[] = [];
  readonly #connection: ChannelModel;

  private constructor(connection: ChannelModel) {
    this.#connection = connection;
  }

  /** Starts consuming `<prefix>.q.<queue>` (which must exist) or, with `events`, the beat.dispatched events. */
  static async open(config: NightshiftConfig, queue: string): Promise<QueueTap> {
    const connection = await connect(config.amqpUrl);
    const channel = await connection.createChannel();
    const tap = new QueueTap(connection);
    await channel.consume(`${config.prefix}.q.${queue}`, (message: ConsumeMessage | null) => {
      if (!message) return;
      const decoded = decode(message.content);
      if (decoded.ok) tap.received.push({ envelope: decoded.envelope, messageId: message.properties.messageId as string | undefined, headers: message.properties.headers ?? {}, receivedAt: Date.now() });
    }, { noAck: true });
    return tap;
  }

  /** The `beat.dispatched` events published under the prefix, from now on. */
  static async events(config: NightshiftConfig): Promise<{ events: Record<string, unknown>[]; close: () => Promise<void> }> {
    const connection = await connect(config.amqpUrl);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, `${config.prefix}.events`, 'beat.dispatched');
    const events: Record<string, unknown>[] = [];
    await channel.consume(queue, (message) => {
      // One event, or a batch of them (beat groups its events), read as every consumer of events reads them.
      if (message) events.push(...parseEvents(message.content));
    }, { noAck: true });
    return { events, close: () => connection.close().catch(() => {}) };
  }

  /** The fire times (ms) of what arrived. */
  scheduledFor(): number[] {
    return this.received.map((r) => (r.envelope.origin.type === 'beat' ? Date.parse(r.envelope.origin.scheduledFor) : Number.NaN));
  }

  async close(): Promise<void> {
    await this.#connection.close().catch(() => {});
  }
}

/** A logger that keeps its JSON lines, for assertions on what beat says. */
export function capturingLogger(level = 'info'): { log: Logger; lines: () => Record<string, unknown>[] } {
  const text: string[] = [];
  const destination = new Writable({ write(chunk: Buffer, _encoding, done) {
    text.push(chunk.toString('utf8'));
    done();
  } });
  const log = createLogger({ service: 'beat-test', level, destination });
  return { log, lines: () => text.join('').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>) };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits until `check` holds, polling every 50 ms, or fails after `timeoutMs`. */
export { eventually } from '@nightshift/test-helpers';

/** A beat process (`services/beat/src/main.ts`) with its JSON log lines. */
export interface BeatProcess {
  readonly child: ChildProcess;
  readonly lines: Record<string, unknown>[];
  readonly exited: Promise<number | null>;
}

export function spawnBeat(app: string, config: NightshiftConfig, extraEnv: Record<string, string> = {}): BeatProcess {
  const child = spawn(process.execPath, [new URL('../src/main.ts', import.meta.url).pathname, '--app', app], {
    env: {
      ...process.env, NIGHTSHIFT_AMQP_URL: config.amqpUrl, NIGHTSHIFT_REDIS_URL: config.redisUrl, NIGHTSHIFT_PREFIX: config.prefix,
      NIGHTSHIFT_METRICS_PORT: '0', NIGHTSHIFT_LOG_LEVEL: 'info', ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Record<string, unknown>[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      try {
        lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        lines.push({ msg: line });
      }
    }
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    if (stderr.trim() !== '') lines.push({ msg: `stderr: ${stderr.trim()}` });
    resolve(code);
  }));
  return { child, lines, exited };
}

/** What a test file that starts beat services shares: telemetry (metrics on a free port) and what to undo after it. */
export interface BeatTestFile {
  /** Started before the file's first test. */
  readonly telemetry: Telemetry;
  /** Run after the file's last test, newest first; one that fails is reported and the rest still run. */
  readonly cleanups: (() => Promise<void>)[];
}

/** Registers the file's `before` and `after` hooks: call it once, at the top of a test file. */
export function beatTestFile(service: string): BeatTestFile {
  const cleanups: (() => Promise<void>)[] = [];
  let telemetry: Telemetry | undefined;
  before(async () => {
    telemetry = await startTelemetry({ service, metricsPort: 0, logLevel: 'silent' });
  });
  after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch((error: unknown) => console.error('cleanup failed', error));
    await telemetry?.shutdown();
  });
  return {
    cleanups,
    get telemetry(): Telemetry {
      if (telemetry === undefined) throw new Error('the test file\'s telemetry starts before its first test');
      return telemetry;
    },
  };
}
