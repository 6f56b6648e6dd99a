import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { loadConfig, type NightshiftConfig } from '@nightshift/core';
import { Broker, brokerOptions, createClient, parseEvents, type Client, type LifecycleEvent } from '@nightshift/broker';
import { eventually, randomPrefix, removeRedisKeys, requireServices } from '@nightshift/test-helpers';
import { startWorker, type StartedWorker, type WorkerOptionsInput } from '@nightshift/worker';
import { metrics } from '@nightshift/telemetry';

export const appPath = fileURLToPath(new URL('./fixtures/app.ts', import.meta.url));
/** A log line the workers of a harness wrote. */
export interface LoggedLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: Record<string, unknown>;
  /** When it was written (ms since the epoch). */
  readonly at: number;
}

/** A logger that keeps what it is told, for tests of what an operator reads. */
function recordingLogger(lines: LoggedLine[]) {
  const at = (level: LoggedLine['level']) => (fields: unknown, msg?: string) => {
    lines.push({ level, msg: typeof fields === 'string' ? fields : (msg ?? ''), fields: typeof fields === 'object' && fields !== null ? fields as Record<string, unknown> : {}, at: Date.now() });
  };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** One isolated Nightshift installation on the real broker: its own prefix, a client, an event tap and cleanup. */
export interface Harness {
  readonly env: Record<string, string>;
  readonly config: NightshiftConfig;
  readonly client: Client;
  readonly raw: Channel;
  readonly events: LifecycleEvent[];
  /** What the workers logged. */
  readonly logs: LoggedLine[];
  worker(input?: Partial<WorkerOptionsInput>): Promise<StartedWorker>;
  deadLetters(count: number, timeoutMs?: number): Promise<GetMessage[]>;
  waitForEvent(match: (event: LifecycleEvent) => boolean, timeoutMs?: number): Promise<LifecycleEvent>;
  /** A path for a task to write its progress to, in a directory `close` removes. */
  marker(name: string): string;
  close(): Promise<void>;
}

export async function harness(overrides: Record<string, string> = {}): Promise<Harness> {
  const { amqpUrl } = await requireServices('rabbitmq');
  const env = { NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_PREFIX: randomPrefix('worker'), NIGHTSHIFT_RETRY_LADDER: '100ms,1s', NIGHTSHIFT_DELIVERY_LIMIT: '3', NIGHTSHIFT_HEARTBEAT: '500ms', NIGHTSHIFT_WORKER_GRACE: '3s', ...overrides };
  const config = loadConfig(env);
  const client = await createClient(config, { name: 'worker-test' });
  const connection: ChannelModel = await connect(amqpUrl);
  const raw = await connection.createChannel();
  const events: LifecycleEvent[] = [];
  const tap = await raw.assertQueue('', { exclusive: true });
  await raw.bindQueue(tap.queue, client.broker.names.events, '#');
  await raw.consume(tap.queue, (message) => {
    if (message) events.push(...parseEvents(message.content));
  }, { noAck: true });
  const workers: StartedWorker[] = [];
  // Workers spawned as processes declare queues too: every fixture task lives on `default`.
  const queues = new Set<string>(['default']);
  const markers = mkdtempSync(join(tmpdir(), 'nightshift-worker-test-'));
  const found: GetMessage[] = [];
  const logs: LoggedLine[] = [];
  return {
    env, config, client, raw, events, logs,
    async worker(input = {}) {
      const started = await startWorker({ appPath, concurrency: 2, ...input }, env, recordingLogger(logs) as never, metrics.getMeter('@nightshift/worker'));
      for (const queue of started.worker.options.queues) queues.add(queue);
      workers.push(started);
      return started;
    },
    deadLetters: (count, timeoutMs = 20_000) => eventually(`${count} dead letters`, async () => {
      const message = await raw.get(client.broker.names.deadLetters, { noAck: true });
      if (message) found.push(message);
      return found.length >= count ? found.splice(0, count) : undefined;
    }, timeoutMs, 20),
    waitForEvent: (match, timeoutMs = 20_000) => eventually('an event', () => events.find(match), timeoutMs, 20),
    marker: (name) => join(markers, `${name}-${Date.now()}`),
    async close() {
      await Promise.all(workers.map((w) => w.stop({ force: true })));
      const cleaner = await Broker.connect(brokerOptions(config, 'cleanup'));
      for (const queue of queues) await cleaner.ensureQueue(queue);
      await cleaner.deleteTopology();
      await cleaner.close();
      // The workers' completion records; a test that pointed them at an unreachable Redis wrote none.
      await removeRedisKeys(config.redisUrl, config.prefix).catch(() => {});
      await client.close();
      await connection.close().catch(() => {}); // gone already if a fault test restarted the broker
      rmSync(markers, { recursive: true, force: true });
    },
  };
}

