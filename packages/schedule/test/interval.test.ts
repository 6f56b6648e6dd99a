import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@nightshift/core';
import { every, nextFireTime, toSchedule } from '@nightshift/schedule';
import { iso, next } from './support.ts';

test("every('5m') fires on the five-minute marks of UTC, counted from the Unix epoch", () => {
  const schedule = every('5m');
  assert.equal(schedule.everyMs, 300_000);
  assert.equal(schedule.anchorMs, 0);
  assert.deepEqual(next(schedule, 'UTC', '2025-06-01T10:02:17.5Z', 3), [iso('2025-06-01T10:05Z'), iso('2025-06-01T10:10Z'), iso('2025-06-01T10:15Z')]);
});

test('the next run is strictly after the given time', () => {
  const schedule = every('5m');
  assert.equal(nextFireTime(schedule, Date.parse('2025-06-01T10:05:00Z'), 'UTC'), Date.parse('2025-06-01T10:10:00Z'));
  assert.equal(nextFireTime(schedule, Date.parse('2025-06-01T10:04:59.999Z'), 'UTC'), Date.parse('2025-06-01T10:05:00Z'));
});

test('every({ seconds: 30 }) and other parts', () => {
  assert.equal(every({ seconds: 30 }).everyMs, 30_000);
  assert.equal(every({ hours: 1, minutes: 30 }).everyMs, 5_400_000);
  assert.equal(every({ days: 1 }).everyMs, 86_400_000);
  assert.equal(every('1h30m').everyMs, 5_400_000);
  assert.equal(every(2_000).everyMs, 2_000);
});

test('the { every } form of an app entry, with an optional anchor', () => {
  const plain = toSchedule({ every: '15m' }, 'entry');
  assert.equal(plain.type, 'interval');
  const anchored = toSchedule({ every: '1h', anchor: '2025-01-01T00:30:00Z' }, 'entry');
  assert.deepEqual(next(anchored, 'UTC', '2025-06-01T10:00:00Z', 2), [iso('2025-06-01T10:30Z'), iso('2025-06-01T11:30Z')]);
  // Before the anchor the runs are on the same grid.
  assert.deepEqual(next(anchored, 'UTC', '2024-12-31T22:45:00Z', 1), [iso('2024-12-31T23:30Z')]);
});

test('an interval ignores time zones and DST: the same instants in any zone', () => {
  const schedule = every('1h');
  const around = '2025-03-30T00:10:00Z'; // Berlin springs forward at 01:00Z
  assert.deepEqual(next(schedule, 'Europe/Berlin', around, 3), next(schedule, 'UTC', around, 3));
  assert.deepEqual(next(schedule, 'Europe/Berlin', around, 3), [iso('2025-03-30T01:00Z'), iso('2025-03-30T02:00Z'), iso('2025-03-30T03:00Z')]);
});

test('bad intervals say what is wrong', () => {
  const cases: [unknown, RegExp][] = [
    ['500ms', /shorter than the shortest interval, 1s/],
    ['5 minutes', /is not a duration/],
    [{ second: 30 }, /unknown interval part "second"/],
    [{}, /needs at least one part/],
    [{ seconds: -1 }, /seconds -1 must be a number ≥ 0/],
  ];
  for (const [input, message] of cases) {
    assert.throws(() => every(input as string, {}, 'entry "x"'), (error: unknown) => error instanceof ConfigError && message.test(error.message) && error.message.startsWith('entry "x"'));
  }
  assert.throws(() => every('5m', { anchor: 'yesterday' }), /anchor "yesterday" is not a time/);
  assert.throws(() => toSchedule({ every: '5m', at: 3 }, 'entry'), /unknown field "at" next to "every"/);
});
