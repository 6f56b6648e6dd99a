// One isolated Nightshift installation for the proof: its own prefix, schema and Redis keys, the four
// services as processes, a workload touching every outcome, and cleanup of all of it.
import { fileURLToPath } from 'node:url';
import { loadConfig, type NightshiftConfig } from '@nightshift/core';
import { createClient, type Client } from '@nightshift/broker';
import { freePort, randomPrefix, removePrefix, requireServices, slackWebhook, smtpServer } from '@nightshift/test-helpers';
import { doomed, flaky, hang, ok, parked } from './fixtures/app.ts';
import { exited, spawnService, type ServiceName, type ServiceProcess } from './stack.ts';

const appPath = fileURLToPath(new URL('./fixtures/app.ts', import.meta.url));

export interface Installation {
  readonly env: Record<string, string>;
  readonly config: NightshiftConfig;
  readonly client: Client;
  readonly processes: ServiceProcess[];
  /** Starts a service as a process; its metrics port is chosen now so Prometheus can be told it. */
  start(service: ServiceName, args?: string[]): Promise<ServiceProcess>;
  /** Sends the workload: successes, a retried task, dead letters (one permanent, one killed at its hard limit). */
  sendWorkload(): Promise<void>;
  /** Sends `count` tasks to the `parked` queue, which no worker of the proof consumes. */
  park(count: number): Promise<void>;
  close(): Promise<void>;
}

export async function installation(): Promise<Installation> {
  const { amqpUrl, redisUrl, databaseUrl } = await requireServices('rabbitmq', 'redis', 'postgres');
  const prefix = randomPrefix('grafana');
  // Slack answers 500, so alerts fail on that channel (nightshift_alerts_failed_total) and wait in the
  // outbox (its age gauge), while email delivers (nightshift_alerts_sent_total).
  const slack = await slackWebhook();
  slack.status.code = 500;
  const smtp = await smtpServer();
  const env: Record<string, string> = {
    NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_DATABASE_URL: databaseUrl,
    NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix,
    NIGHTSHIFT_RETRY_LADDER: '100ms,500ms', NIGHTSHIFT_HEARTBEAT: '500ms', NIGHTSHIFT_HEALTH_POLL: '500ms',
    NIGHTSHIFT_WORKER_GRACE: '1s', NIGHTSHIFT_HTTP_PORT: '0', NIGHTSHIFT_HTTP_HOST: '127.0.0.1',
    NIGHTSHIFT_SLACK_WEBHOOK_URL: slack.url, NIGHTSHIFT_SMTP_URL: smtp.url,
    NIGHTSHIFT_ALERT_EMAIL_FROM: 'nightshift@example.test', NIGHTSHIFT_ALERT_EMAIL_TO: 'oncall@example.test',
    NIGHTSHIFT_ALERT_WINDOW: '1s',
  };
  const config = loadConfig(env);
  const client = await createClient(config, { name: 'grafana-proof' });
  const processes: ServiceProcess[] = [];
  return {
    env, config, client, processes,
    async start(service, args = ['--app', appPath]) {
      const started = spawnService(service, await freePort(), env, args);
      processes.push(started);
      return started;
    },
    async sendWorkload() {
      for (let i = 0; i < 10; i += 1) await client.send(ok, [i]);
      await client.send(flaky, []);
      await client.send(doomed, []);
      await client.send(hang, []);
    },
    async park(count) {
      for (let i = 0; i < count; i += 1) await client.send(parked, []);
    },
    async close() {
      for (const { child } of processes) child.kill('SIGTERM');
      await Promise.race([Promise.all(processes.map(({ child }) => exited(child))), new Promise((resolve) => setTimeout(resolve, 5_000))]);
      for (const { child } of processes) child.kill('SIGKILL');
      await client.close().catch(() => {});
      await removePrefix({ amqpUrl: config.amqpUrl, redisUrl: config.redisUrl, databaseUrl }, config.prefix);
      await slack.close();
      await smtp.close();
    },
  };
}
