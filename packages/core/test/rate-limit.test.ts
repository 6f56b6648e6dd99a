import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, defineTask, parseRateLimit } from '@nightshift/core';

test('a task\'s rateLimit is read as count per second, minute or hour', () => {
  const task = defineTask({ name: 'mail.send', rateLimit: '100/m', run: () => 1 });
  assert.deepEqual(task.rate, { count: 100, perMs: 60_000, text: '100/m' });
  assert.deepEqual(parseRateLimit(' 5 / s ', 'rate'), { count: 5, perMs: 1_000, text: '5/s' });
  assert.equal(parseRateLimit('2/h', 'rate').perMs, 3_600_000);
  assert.equal(defineTask({ name: 'free', run: () => 1 }).rate, undefined);
});

test('a bad rateLimit is refused with an error naming the task and the field', () => {
  for (const bad of ['100', '100/min', '0/m', '-1/s', 'fast', '1.5/s', '']) {
    assert.throws(() => defineTask({ name: 'mail.send', rateLimit: bad, run: () => 1 }), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.field, 'task "mail.send" rateLimit');
      assert.match(error.message, /^task "mail\.send" rateLimit: .* is not a rate limit: write "<count>\/<s\|m\|h>"/);
      return true;
    }, bad);
  }
  assert.throws(() => defineTask({ name: 'x', rateLimit: 100 as unknown as string, run: () => 1 }), /task "x" rateLimit: 100 is not a rate limit/);
});
