import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, formatDuration, parseDuration } from '@nightshift/core';

test('reads durations people write', () => {
  assert.equal(parseDuration('90s', 'f'), 90_000);
  assert.equal(parseDuration('5m', 'f'), 300_000);
  assert.equal(parseDuration('1h30m', 'f'), 5_400_000);
  assert.equal(parseDuration('250ms', 'f'), 250);
  assert.equal(parseDuration('1.5s', 'f'), 1_500);
  assert.equal(parseDuration('2d', 'f'), 172_800_000);
  assert.equal(parseDuration(1234, 'f'), 1234);
  assert.equal(parseDuration('1500', 'f'), 1500);
});

test('a bad duration names the field and the value', () => {
  for (const bad of ['', '5 minutes', '1h1h', 'm5', '-3s', '10x', -1, Number.NaN, Infinity]) {
    assert.throws(() => parseDuration(bad, 'task "x" timeLimit'), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.code, 'E_CONFIG');
      assert.match(error.message, /^task "x" timeLimit: /);
      assert.ok(error.message.includes(JSON.stringify(bad)), error.message);
      return true;
    });
  }
});

test('formats milliseconds back to the short form', () => {
  assert.equal(formatDuration(5_400_000), '1h30m');
  assert.equal(formatDuration(90_000), '1m30s');
  assert.equal(formatDuration(250), '250ms');
  assert.equal(parseDuration(formatDuration(3_723_004), 'f'), 3_723_004);
});
