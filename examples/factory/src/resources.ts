import { loadConfig } from '@nightshift/core';
import { Redis } from 'ioredis';
import { Pool } from 'pg';
import { startDemoApi, type DemoApi } from './demo-api.ts';
import type { FactorySettings } from './settings.ts';

// One of each per process, made on first use. A worker thread loads the app module itself and so
// gets its own; loading the app (to list its tasks, say) opens nothing.
let pool: Pool | undefined;
let redis: Redis | undefined;
let demoApi: Promise<DemoApi> | undefined;

/** The process's PostgreSQL pool (`NIGHTSHIFT_DATABASE_URL`). */
export function postgres(): Pool {
  if (pool === undefined) {
    pool = new Pool({ connectionString: loadConfig().databaseUrl, max: 5, application_name: 'nightshift-factory' });
    // An idle client whose connection drops emits here; without a listener that would crash the process.
    // The pool replaces it, and a task that needed it sees its own error.
    pool.on('error', (error) => process.emitWarning(`factory: idle PostgreSQL client failed: ${error.message}`));
  }
  return pool;
}

/** The process's Redis client (`NIGHTSHIFT_REDIS_URL`). */
export function redisClient(): Redis {
  if (redis === undefined) {
    redis = new Redis(loadConfig().redisUrl, { maxRetriesPerRequest: 2, connectionName: 'nightshift-factory' });
    // ioredis reconnects by itself; commands issued meanwhile fail in the task that issued them.
    redis.on('error', () => {});
  }
  return redis;
}

/** The base URL of the API the tasks call: `settings.apiUrl`, else the demo API, started on first use. */
export async function apiBaseUrl(settings: FactorySettings): Promise<string> {
  if (settings.apiUrl !== undefined) return settings.apiUrl;
  demoApi ??= startDemoApi().catch((error: unknown) => {
    demoApi = undefined;
    throw error;
  });
  return (await demoApi).url;
}

/** Closes whatever this process opened: the pool, the Redis client and the demo API. Later use opens them anew. */
export async function closeFactoryResources(): Promise<void> {
  const closing: Promise<unknown>[] = [];
  if (pool !== undefined) closing.push(pool.end());
  if (redis !== undefined) {
    const client = redis;
    closing.push(client.quit().catch(() => client.disconnect()));
  }
  if (demoApi !== undefined) closing.push(demoApi.then((api) => api.close(), () => undefined));
  pool = undefined;
  redis = undefined;
  demoApi = undefined;
  await Promise.allSettled(closing);
}
