import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '@nightshift/core';
import { ConfigError, createClient, StoreUnavailableError } from '@nightshift/client';
import { randomPrefix, removePrefix, requireServices } from '@nightshift/test-helpers';
import { app } from './support.ts';

test('createClient sends at once and reaches PostgreSQL and Redis only when schedules are used; their trouble names no secret', async () => {
  const { amqpUrl, redisUrl, databaseUrl } = await requireServices('rabbitmq', 'redis', 'postgres');
  const prefix = randomPrefix('client-lazy');
  const env = {
    NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_PREFIX: prefix,
    NIGHTSHIFT_DATABASE_URL: 'postgres://nightshift:hunter2-secret@127.0.0.1:1/nowhere', NIGHTSHIFT_DATABASE_SCHEMA: prefix,
  };
  const client = await createClient(loadConfig(env), { app, name: 'lazy-test', env });
  try {
    const id = await client.send('reports.generate', ['daily']);
    assert.match(id, /^[0-9a-f-]{36}$/);
    await assert.rejects(client.schedules.list(), (error: unknown) => {
      assert.ok(error instanceof StoreUnavailableError, String(error));
      assert.doesNotMatch(error.message, /hunter2-secret/);
      return true;
    });
  } finally {
    await client.close();
    await removePrefix({ amqpUrl, redisUrl, databaseUrl }, prefix);
  }
});

test('createClient needs the app', async () => {
  await assert.rejects(createClient(loadConfig({}), {} as never), (error: unknown) => error instanceof ConfigError && error.field === 'app');
});
