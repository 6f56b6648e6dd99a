// What one installation keeps on the servers, as the suite reads it: beat's keys in Redis (`<prefix>:beat:…`)
// and the store's PostgreSQL schema (named like the prefix). Deleting it all is test-helpers' removePrefix.
import { compileBeatOptions, connectRedis } from '@nightshift/beat';
import { beatKeys } from '@nightshift/beat-state';
import { Store } from '@nightshift/store';
import { eventually } from '@nightshift/test-helpers';

type Redis = ReturnType<typeof connectRedis>;

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** Runs `work` on a Redis connection of its own (beat's kind: commands fail at once while Redis is down). */
export async function withRedis<T>(url: string, work: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = connectRedis(url, compileBeatOptions(), quiet);
  try {
    await eventually('Redis to answer', () => redis.status === 'ready', 10_000, 20);
    return await work(redis);
  } finally {
    redis.disconnect();
  }
}

/** Runs `work` on the store of the installation (its own PostgreSQL schema). */
export async function withStore<T>(url: string, schema: string, work: (store: Store) => Promise<T>): Promise<T> {
  const store = new Store({ url, schema, applicationName: 'nightshift-e2e' });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** Beat's watermark: entry name → the newest fire time it handled (ms). */
export function beatWatermarks(redisUrl: string, prefix: string): Promise<Record<string, number>> {
  return withRedis(redisUrl, async (redis) => {
    const raw = await redis.hgetall(beatKeys(prefix).lastRun);
    return Object.fromEntries(Object.entries(raw).map(([entry, ms]) => [entry, Number(ms)]));
  });
}
