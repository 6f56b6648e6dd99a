import { randomBytes } from 'node:crypto';
import { after, afterEach } from 'node:test';
import { escapeIdentifier } from 'pg';
import { closeFactoryResources, postgres, redisClient } from '../src/resources.ts';
import { compileFactorySettings, type FactorySettings } from '../src/settings.ts';

/** Settings with a schema and a Redis key prefix no other test uses. */
export function isolatedSettings(overrides: Partial<FactorySettings> = {}): FactorySettings {
  const id = randomBytes(6).toString('hex');
  return compileFactorySettings({ schema: `factory_test_${id}`, redisPrefix: `factory-test:${id}`, ...overrides });
}

/** Drops the test's schema and deletes its Redis keys. */
export async function removeIsolated(settings: FactorySettings): Promise<void> {
  await postgres().query(`DROP SCHEMA IF EXISTS ${escapeIdentifier(settings.schema)} CASCADE`);
  const redis = redisClient();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${settings.redisPrefix}:*`, 'COUNT', 500);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/**
 * For a test file: returns a maker of isolated settings; what each test made is removed after it,
 * and the process's connections are closed after the file.
 */
export function isolatedPerTest(): (overrides?: Partial<FactorySettings>) => FactorySettings {
  const made: FactorySettings[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map(removeIsolated));
  });
  after(closeFactoryResources);
  return (overrides) => {
    const settings = isolatedSettings(overrides);
    made.push(settings);
    return settings;
  };
}
