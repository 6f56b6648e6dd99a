import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_REDACT_KEYS, redact } from '@nightshift/telemetry';

test('secret key names are redacted at any depth, whatever their case and separators', () => {
  const input = {
    Password: 'a', db_password: 'b', smtp: { host: 'mail', user: 'ops', pass: 'c' },
    headers: { Authorization: 'Bearer d', 'Set-Cookie': 'sid=e', 'X-API-KEY': 'f' },
    jobs: [{ settings: { apiKey: 'g', api_key: 'h', accessToken: 'i', clientSecret: 'j', slackWebhookUrl: 'https://hooks.example/k' } }],
  };
  assert.deepEqual(redact(input), {
    Password: '***', db_password: '***', smtp: { host: 'mail', user: 'ops', pass: '***' },
    headers: { Authorization: '***', 'Set-Cookie': '***', 'X-API-KEY': '***' },
    jobs: [{ settings: { apiKey: '***', api_key: '***', accessToken: '***', clientSecret: '***', slackWebhookUrl: '***' } }],
  });
});

test('keys that merely contain a secret word are kept', () => {
  const input = { tokenCount: 3, bypass: true, routingKey: 'q.default', passengers: 2, secretName: 'db' };
  assert.deepEqual(redact(input), input);
});

test('configured keys are added to the defaults', () => {
  assert.deepEqual(redact({ stripe_key: 'sk', pin: 1234, password: 'x' }, { keys: ['stripeKey', 'PIN'] }), { stripe_key: '***', pin: '***', password: '***' });
  assert.ok(DEFAULT_REDACT_KEYS.includes('password'));
});

test('configured secret values are masked inside any string, longest first', () => {
  const values = ['hunter2', 'hunter2-long'];
  assert.equal(redact('login with hunter2 then hunter2-long', { values }), 'login with *** then ***');
  assert.deepEqual(redact({ note: ['x hunter2 y'], count: 2 }, { values }), { note: ['x *** y'], count: 2 });
  assert.equal(redact('nothing here', { values: [''] }), 'nothing here');
});

test('URL passwords are masked, in strings and URL objects', () => {
  assert.equal(redact('connecting to amqp://guest:guest@rabbit:5672/vh now'), 'connecting to amqp://guest:***@rabbit:5672/vh now');
  assert.equal(redact('redis://:p@ss@cache:6379'), 'redis://:***@cache:6379');
  assert.equal(redact('http://host:8080/path@x and user@example.com'), 'http://host:8080/path@x and user@example.com');
  const url = redact(new URL('postgres://app:s3cret@db/app'));
  assert.ok(url instanceof URL);
  assert.equal(url.href, 'postgres://app:***@db/app');
});

test('errors stay errors of their class, with message, stack, properties and cause redacted', () => {
  class BrokerDown extends Error {
    override name = 'BrokerDown';
  }
  const cause = new Error('auth failed for amqp://u:pw@rabbit');
  const error = Object.assign(new BrokerDown('cannot reach amqp://u:pw@rabbit with hunter2', { cause }), { config: { password: 'x', host: 'rabbit' } });
  const copy = redact(error, { values: ['hunter2'] });
  assert.ok(copy instanceof BrokerDown);
  assert.equal(copy.message, 'cannot reach amqp://u:***@rabbit with ***');
  assert.match(copy.stack ?? '', /^BrokerDown: cannot reach amqp:\/\/u:\*\*\*@rabbit with \*\*\*\n\s+at /);
  assert.deepEqual((copy as BrokerDown & { config: unknown }).config, { password: '***', host: 'rabbit' });
  assert.equal((copy.cause as Error).message, 'auth failed for amqp://u:***@rabbit');
  assert.equal(error.message, 'cannot reach amqp://u:pw@rabbit with hunter2', 'the original is untouched');
});

test('cycles, missing values and foreign objects are handled without throwing', () => {
  const loop: Record<string, unknown> = { name: 'loop', password: null, token: undefined };
  loop.self = loop;
  assert.deepEqual(redact(loop), { name: 'loop', password: null, token: undefined, self: '[Circular]' });
  const when = new Date(0);
  const shared = { a: 1 };
  assert.deepEqual(redact({ when, left: shared, right: shared }), { when, left: { a: 1 }, right: { a: 1 } });
  assert.equal(redact(42), 42);
  assert.equal(redact(undefined), undefined);
});
