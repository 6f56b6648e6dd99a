import { fileURLToPath } from 'node:url';
import { Broker, brokerOptions } from '@nightshift/broker';
import { loadApp } from '@nightshift/core';
import { quoteIdent, Store } from '@nightshift/store';
import { createLogger, metrics } from '@nightshift/telemetry';
import { randomPrefix, removeRedisKeys, requireServices } from '@nightshift/test-helpers';
import { startWorker, type StartedWorker, type WorkerOptionsInput } from '@nightshift/worker';
import { loadHealthApiConfig, startHealthApi, type HealthApi } from '@nightshift/health-api';

export const appPath = fileURLToPath(new URL('./fixtures/app.ts', import.meta.url));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const logger = createLogger({ service: 'health-api-test', level: 'silent' });

/** One isolated installation: its own broker prefix and database schema, health-api(s) in-process, workers on demand. */
export interface Installation {
  readonly env: Record<string, string>;
  readonly api: HealthApi;
  /** Another replica on the same prefix and schema. */
  replica(): Promise<HealthApi>;
  worker(input?: Partial<WorkerOptionsInput>): Promise<StartedWorker>;
  /** `inject` with the test's credentials (basic auth as alice) and, for mutations, the CSRF token; `headers` added. */
  request(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; json: unknown; body: string; headers: Record<string, unknown> }>;
  close(): Promise<void>;
}

export async function installation(extraEnv: Record<string, string> = {}, options: { listen?: boolean } = {}): Promise<Installation> {
  const { amqpUrl, databaseUrl, redisUrl } = await requireServices('rabbitmq', 'postgres', 'redis');
  const prefix = randomPrefix('health');
  const env: Record<string, string> = {
    NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_DATABASE_URL: databaseUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix,
    NIGHTSHIFT_RETRY_LADDER: '100ms,1s', NIGHTSHIFT_HEARTBEAT: '300ms', NIGHTSHIFT_HEALTH_POLL: '200ms', NIGHTSHIFT_WORKER_GRACE: '2s',
    NIGHTSHIFT_DASHBOARD_USERS: 'alice:correct-horse', NIGHTSHIFT_HTTP_PORT: '0', NIGHTSHIFT_HTTP_HOST: '127.0.0.1', ...extraEnv,
  };
  const app = await loadApp(appPath);
  const start = () => startHealthApi({ config: loadHealthApiConfig(env), logger, meter: metrics.getMeter('health-api-test'), app, listen: options.listen === true });
  const api = await start();
  const replicas: HealthApi[] = [api];
  const workers: StartedWorker[] = [];
  const auth = `Basic ${Buffer.from('alice:correct-horse').toString('base64')}`;
  let csrf: string | undefined;
  const request: Installation['request'] = async (method, url, body, extraHeaders = {}) => {
    const headers: Record<string, string> = { authorization: auth, ...extraHeaders };
    if (method !== 'GET') {
      csrf ??= ((await api.server.inject({ method: 'GET', url: '/api/session', headers })).json() as { csrfToken: string }).csrfToken;
      headers['x-nightshift-csrf'] = csrf;
    }
    const response = await api.server.inject({ method, url, headers, ...(body === undefined ? {} : { payload: body as object }) });
    let json: unknown;
    try {
      json = response.json();
    } catch {
      json = undefined;
    }
    return { status: response.statusCode, json, body: response.body, headers: response.headers };
  };
  return {
    env, api, request,
    async replica() {
      const another = await start();
      replicas.push(another);
      return another;
    },
    async worker(input = {}) {
      const started = await startWorker({ appPath, concurrency: 2, queues: ['default'], ...input }, env, quiet, metrics.getMeter('health-api-test'));
      workers.push(started);
      return started;
    },
    async close() {
      await Promise.all(workers.map((w) => w.stop({ force: true })));
      await Promise.all(replicas.map((r) => r.stop()));
      const cleaner = await Broker.connect(brokerOptions(loadHealthApiConfig(env).core, 'cleanup'));
      await cleaner.withChannel(async (channel) => {
        await channel.deleteQueue(`${prefix}.health-api.history`);
      });
      for (const queue of ['default', 'reports']) await cleaner.ensureQueue(queue);
      await cleaner.deleteTopology();
      await cleaner.close();
      await removeRedisKeys(redisUrl, prefix); // the workers' completion records
      const store = new Store({ url: databaseUrl, schema: prefix });
      await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(prefix)} CASCADE`).catch(() => {});
      await store.close();
    },
  };
}

export { eventually } from '@nightshift/test-helpers';
