import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { connect, type Channel, type ChannelModel, type Message } from 'amqplib';
import { encode, serializeError, type Logger, type TaskEnvelope } from '@nightshift/core';
import { Broker, brokerOptions, buildEnvelope, publishDeadLetter } from '@nightshift/broker';
import { createLogger, metrics } from '@nightshift/telemetry';
import { DeadLetters, quoteIdent, Store } from '@nightshift/store';
import { randomPrefix, requireServices, slackWebhook, smtpServer } from '@nightshift/test-helpers';
import { loadAlerterConfig, startAlerter, type Alerter, type AlerterConfig, type AlerterOptions } from '@nightshift/alerter';

/** Log lines kept in memory, as the alerter wrote them (after redaction). */
export class LogLines extends Writable {
  readonly lines: string[] = [];
  override _write(chunk: Buffer, _encoding: string, callback: () => void): void {
    this.lines.push(chunk.toString('utf8'));
    callback();
  }
}

export interface AlerterHarness {
  readonly config: AlerterConfig;
  readonly env: Record<string, string>;
  readonly logs: LogLines;
  readonly logger: Logger;
  /** A second connection, as the worker has: dead letters are published through it. */
  readonly producer: Broker;
  readonly raw: Channel;
  /** A store on the test's schema, not the alerter's (which may point at a proxy). */
  readonly store: Store;
  readonly deadLetters: DeadLetters;
  start(overrides?: Partial<AlerterOptions>): Promise<Alerter>;
  cleanup(): Promise<void>;
}

/** An alerter environment under its own random prefix and schema; `cleanup` stops alerters and deletes both. */
export async function alerterHarness(env: Record<string, string> = {}): Promise<AlerterHarness> {
  const { amqpUrl, databaseUrl } = await requireServices('rabbitmq', 'postgres');
  const prefix = randomPrefix('alerter');
  const fullEnv = {
    NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_DATABASE_URL: databaseUrl, NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix,
    NIGHTSHIFT_PUBLISH_TIMEOUT: '10s', NIGHTSHIFT_ALERT_WINDOW: '3s', ...env,
  };
  const config = loadAlerterConfig(fullEnv);
  const logs = new LogLines();
  const logger = createLogger({ service: 'alerter-test', level: 'debug', destination: logs, redactValues: ['hunter2-never'] });
  const producer = await Broker.connect(brokerOptions(loadAlerterConfig({ ...fullEnv, NIGHTSHIFT_DATABASE_URL: databaseUrl }).core, 'alerter-test producer'));
  const connection: ChannelModel = await connect(amqpUrl);
  const raw = await connection.createChannel();
  const store = new Store({ url: databaseUrl, schema: prefix });
  const started: Alerter[] = [];
  return {
    config, env: fullEnv, logs, logger, producer, raw, store, deadLetters: new DeadLetters(store),
    async start(overrides = {}) {
      const alerter = await startAlerter({ config, logger, meter: metrics.getMeter('alerter-test'), retry: { baseMs: 200, maxMs: 1_000 }, ...overrides });
      started.push(alerter);
      return alerter;
    },
    async cleanup() {
      for (const alerter of started) await alerter.stop().catch(() => {});
      await producer.deleteTopology().catch(() => {});
      await producer.close();
      await connection.close().catch(() => {});
      await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(prefix)} CASCADE`).catch(() => {});
      await store.close();
    },
  };
}

/** A task message as a producer sends it, with a traceparent header. */
export function taskMessage(envelope: TaskEnvelope, traceId = randomHex(32)): Message {
  return {
    content: encode(envelope),
    fields: { deliveryTag: 1, redelivered: false, exchange: 'tasks', routingKey: envelope.queue },
    properties: {
      messageId: envelope.id, type: envelope.task, contentType: 'application/json', headers: { traceparent: `00-${traceId}-${randomHex(16)}-01` },
      contentEncoding: undefined, deliveryMode: 2, priority: undefined, correlationId: undefined, replyTo: undefined, expiration: undefined,
      timestamp: undefined, userId: undefined, appId: undefined, clusterId: undefined,
    },
  } as Message;
}

/** Dead-letters a task the way the worker does after its last attempt failed. */
export async function deadLetterTask(broker: Broker, task: string, args: unknown[], error: Error, options: { queue?: string; traceId?: string } = {}): Promise<TaskEnvelope> {
  const envelope = { ...buildEnvelope(undefined, { kind: 'nightshift.task', name: task } as never, args, { queue: options.queue ?? 'reports' }, 'test'), attempt: 3 };
  await publishDeadLetter(broker, taskMessage(envelope, options.traceId), {
    reason: 'failed', error: serializeError(error), worker: 'worker@test', attempts: 3,
    firstFailedAt: new Date(Date.now() - 5_000).toISOString(), originalQueue: envelope.queue,
  });
  return envelope;
}

export { eventually } from '@nightshift/test-helpers';

export async function rowCount(store: Store): Promise<number> {
  const { rows } = await store.query<{ count: string }>(`SELECT count(*) AS count FROM ${store.table('dead_letters')}`);
  return Number(rows[0]?.count ?? 0);
}

/**
 * A TCP proxy to PostgreSQL that can be cut: while down, it closes every open connection and every new
 * one at once (and counts them), as an unreachable database looks to a client.
 */
export async function tcpProxy(target: string): Promise<{ url: string; down(): void; up(): void; refused: () => number; close(): Promise<void> }> {
  const targetUrl = new URL(target);
  const sockets = new Set<Socket>();
  let accepting = true;
  let refused = 0;
  const server: Server = createServer((client) => {
    if (!accepting) {
      refused += 1;
      client.destroy();
      return;
    }
    const upstream = createConnection({ port: Number(targetUrl.port || 5432), host: targetUrl.hostname });
    sockets.add(client).add(upstream);
    const drop = () => { client.destroy(); upstream.destroy(); sockets.delete(client); sockets.delete(upstream); };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = new URL(target);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    down() {
      accepting = false;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
    },
    up() { accepting = true; },
    refused: () => refused,
    close: () => new Promise((resolve) => { for (const socket of sockets) socket.destroy(); server.close(() => resolve()); }),
  };
}

function randomHex(length: number): string {
  let out = '';
  while (out.length < length) out += Math.floor(Math.random() * 16).toString(16);
  return out;
}

export { randomPrefix, quoteIdent };

/** An alerter harness paging a local Slack webhook and SMTP server, as the paging tests need. */
export interface PagedHarness {
  readonly harness: AlerterHarness;
  readonly slack: Awaited<ReturnType<typeof slackWebhook>>;
  readonly smtp: Awaited<ReturnType<typeof smtpServer>>;
  close(): Promise<void>;
}

export async function pagedHarness(env: Record<string, string> = {}): Promise<PagedHarness> {
  const slack = await slackWebhook();
  const smtp = await smtpServer();
  const harness = await alerterHarness({
    NIGHTSHIFT_SLACK_WEBHOOK_URL: slack.url,
    NIGHTSHIFT_SMTP_URL: smtp.url,
    NIGHTSHIFT_ALERT_EMAIL_FROM: 'nightshift@example.test',
    NIGHTSHIFT_ALERT_EMAIL_TO: 'oncall@example.test',
    ...env,
  });
  return {
    harness, slack, smtp,
    close: async () => {
      await harness.cleanup();
      await slack.close();
      await smtp.close();
    },
  };
}
