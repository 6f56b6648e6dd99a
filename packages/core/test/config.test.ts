import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, ConfigProblems, defineSetting, loadConfig, parseBrokerUrls, parsers, readCoreConfig, redactUrl } from '@nightshift/core';

test('defaults point at the loopback services', () => {
  const config = loadConfig({});
  assert.equal(config.amqpUrl, 'amqp://guest:guest@127.0.0.1:5672');
  assert.equal(config.prefix, 'nightshift');
  assert.equal(config.publishTimeoutMs, 30_000);
  assert.deepEqual(config.retryLadderMs, [1_000, 5_000, 30_000, 120_000, 600_000, 3_600_000]);
  assert.ok(Object.isFrozen(config));
});

test('reads NIGHTSHIFT_* variables', () => {
  const config = loadConfig({ NIGHTSHIFT_PREFIX: 'shop', NIGHTSHIFT_PUBLISH_TIMEOUT: '5s', NIGHTSHIFT_RETRY_LADDER: '10s,1s', NIGHTSHIFT_METRICS_PORT: '0', NIGHTSHIFT_REDACT: 'stripeKey, pin' });
  assert.equal(config.prefix, 'shop');
  assert.equal(config.publishTimeoutMs, 5_000);
  assert.deepEqual(config.retryLadderMs, [1_000, 10_000]);
  assert.equal(config.metricsPort, 0);
  assert.deepEqual(config.redactKeys, ['stripeKey', 'pin']);
});

test('every bad variable is named, all at once, and passwords are not echoed', () => {
  assert.throws(
    () => loadConfig({ NIGHTSHIFT_AMQP_URL: 'http://u:hunter2@x', NIGHTSHIFT_PUBLISH_TIMEOUT: 'soon', NIGHTSHIFT_DELIVERY_LIMIT: '0', NIGHTSHIFT_LOG_LEVEL: 'loud' }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      for (const name of ['NIGHTSHIFT_AMQP_URL', 'NIGHTSHIFT_PUBLISH_TIMEOUT', 'NIGHTSHIFT_DELIVERY_LIMIT', 'NIGHTSHIFT_LOG_LEVEL']) {
        assert.match(error.message, new RegExp(`${name}: `));
      }
      assert.doesNotMatch(error.message, /hunter2/);
      return true;
    },
  );
  assert.throws(() => loadConfig({ NIGHTSHIFT_DATABASE_URL: 'not a url :pw@' }), /NIGHTSHIFT_DATABASE_URL: .* is not a URL/);
});

test('redactUrl masks the password only', () => {
  assert.equal(redactUrl('amqp://guest:guest@rabbit:5672/vh'), 'amqp://guest:***@rabbit:5672/vh');
  assert.equal(redactUrl('redis://127.0.0.1:6379'), 'redis://127.0.0.1:6379');
});

test('ConfigProblems: a service reads its own settings beside the shared ones and reports every problem at once', () => {
  const window = defineSetting({ name: 'NIGHTSHIFT_ALERT_WINDOW', description: 'w', parse: parsers.duration(100), default: '10m' });
  const empty = defineSetting({ name: 'NIGHTSHIFT_EMPTY', description: 'e', parse: parsers.text });
  const collected = new ConfigProblems({ NIGHTSHIFT_PREFIX: 'bad prefix', NIGHTSHIFT_ALERT_WINDOW: 'soon', NIGHTSHIFT_EMPTY: '  ' });
  const core = readCoreConfig(collected);
  assert.equal(core.prefix, 'nightshift', 'a bad value reads as the default until finish refuses the whole');
  assert.equal(collected.read(window), 600_000);
  assert.equal(collected.read(empty), undefined, 'blank counts as unset');
  assert.throws(() => collected.finish({ core }), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^invalid configuration:\n {2}NIGHTSHIFT_PREFIX: .*\n {2}NIGHTSHIFT_ALERT_WINDOW: "soon" is not a duration/);
    assert.equal(error.field, undefined, 'two variables are at fault');
    return true;
  });
});

test('NIGHTSHIFT_AMQP_URL takes the nodes of a cluster, comma-separated; every password is masked wherever one is printed', () => {
  const nodes = 'amqp://guest:first@127.0.0.1:5681, amqp://guest:second@127.0.0.1:5682,amqps://app:third@rabbit-3:5671/prod';
  assert.equal(loadConfig({ NIGHTSHIFT_AMQP_URL: nodes }).amqpUrl, 'amqp://guest:first@127.0.0.1:5681,amqp://guest:second@127.0.0.1:5682,amqps://app:third@rabbit-3:5671/prod');
  assert.deepEqual(parseBrokerUrls(nodes), ['amqp://guest:first@127.0.0.1:5681', 'amqp://guest:second@127.0.0.1:5682', 'amqps://app:third@rabbit-3:5671/prod']);
  assert.equal(redactUrl(nodes), 'amqp://guest:***@127.0.0.1:5681,amqp://guest:***@127.0.0.1:5682,amqps://app:***@rabbit-3:5671/prod');

  // The list of the issue, and lists with one bad member: refused, naming the variable, with no password in the message.
  const refused = [
    'amqp://guest:first@127.0.0.1:5999,amqp//guest:second@127.0.0.1:5672',
    'amqp://guest:first@127.0.0.1:5999,,amqp://guest:second@127.0.0.1:5672',
    'amqp://guest:first@127.0.0.1:5999,http://guest:second@127.0.0.1:5672',
    'not a url guest:first@ , amqp://guest:second@127.0.0.1:5672',
  ];
  for (const raw of refused) {
    assert.throws(() => loadConfig({ NIGHTSHIFT_AMQP_URL: raw }), (error: Error) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /NIGHTSHIFT_AMQP_URL: /);
      assert.doesNotMatch(error.message, /first|second/, `no password in: ${error.message}`);
      return true;
    });
  }
  assert.doesNotMatch(redactUrl('amqp://guest:first@127.0.0.1:5999,amqp://guest:second@127.0.0.1:5672'), /first|second/);
  assert.doesNotMatch(redactUrl('x //a:first@h, //b:second@h'), /first|second/, 'text that is not a URL is masked too');
});

test('one bad variable is the error\'s field; a good configuration comes back frozen', () => {
  assert.throws(() => loadConfig({ NIGHTSHIFT_LOG_LEVEL: 'loud' }), (error: unknown) =>
    error instanceof ConfigError && error.field === 'NIGHTSHIFT_LOG_LEVEL' && /NIGHTSHIFT_LOG_LEVEL: "loud" must be one of trace, debug, info, warn, error, fatal, silent/.test(error.message));
  const collected = new ConfigProblems({});
  assert.ok(Object.isFrozen(collected.finish({ core: readCoreConfig(collected) })));
});
