import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@nightshift/core';
import { readFactorySettings } from '../src/settings.ts';

test('defaults: schema and prefix "factory", the demo API', () => {
  assert.deepEqual(readFactorySettings({}), { schema: 'factory', redisPrefix: 'factory', apiUrl: undefined, healthEndpoints: undefined });
});

test('FACTORY_* variables override them', () => {
  const settings = readFactorySettings({
    FACTORY_SCHEMA: 'factory_ci',
    FACTORY_REDIS_PREFIX: 'ci:factory',
    FACTORY_API_URL: 'https://api.example.com/',
    FACTORY_HEALTH_ENDPOINTS: 'status=https://status.example.com/ping, api=/health',
  });
  assert.equal(settings.schema, 'factory_ci');
  assert.equal(settings.redisPrefix, 'ci:factory');
  assert.equal(settings.apiUrl, 'https://api.example.com');
  assert.deepEqual(settings.healthEndpoints, [{ name: 'status', url: 'https://status.example.com/ping' }, { name: 'api', url: '/health' }]);
});

test('bad values are ConfigErrors naming the field', () => {
  assert.throws(() => readFactorySettings({ FACTORY_SCHEMA: 'Robert"); DROP' }), (error) => error instanceof ConfigError && error.field === 'FACTORY_SCHEMA');
  assert.throws(() => readFactorySettings({ FACTORY_API_URL: 'ftp://x' }), (error) => error instanceof ConfigError && error.field === 'FACTORY_API_URL');
  assert.throws(() => readFactorySettings({ FACTORY_HEALTH_ENDPOINTS: 'no-url' }), (error) => error instanceof ConfigError && error.field === 'FACTORY_HEALTH_ENDPOINTS');
  assert.throws(() => readFactorySettings({ FACTORY_HEALTH_ENDPOINTS: 'x=ftp://y' }), (error) => error instanceof ConfigError && error.field === 'FACTORY_HEALTH_ENDPOINTS');
});
