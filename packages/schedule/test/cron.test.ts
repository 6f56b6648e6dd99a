import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '@nightshift/core';
import { cron, crontab, nextFireTime, toSchedule } from '@nightshift/schedule';
import { iso, next } from './support.ts';

const values = (expression: string, field: 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'dayOfWeek') => cron(expression).fields[field].values;

test('fields: *, */n, a, a-b, a-b/n and lists', () => {
  assert.equal(values('* * * * *', 'minute').length, 60);
  assert.deepEqual(values('*/20 * * * *', 'minute'), [0, 20, 40]);
  assert.deepEqual(values('7 * * * *', 'minute'), [7]);
  assert.deepEqual(values('0 9-12 * * *', 'hour'), [9, 10, 11, 12]);
  assert.deepEqual(values('0 1-12/5 * * *', 'hour'), [1, 6, 11]);
  assert.deepEqual(values('0,15,40-42,*/30 * * * *', 'minute'), [0, 15, 30, 40, 41, 42]);
});

test('month and day names, in any case, alone and in ranges', () => {
  assert.deepEqual(values('0 0 1 jan,JUL * ', 'month'), [1, 7]);
  assert.deepEqual(values('0 0 1 mar-may *', 'month'), [3, 4, 5]);
  assert.deepEqual(values('0 9 * * mon-fri', 'dayOfWeek'), [1, 2, 3, 4, 5]);
  assert.deepEqual(values('0 9 * * Sat,SUN', 'dayOfWeek'), [0, 6]);
});

test('day-of-week 0 and 7 are both Sunday', () => {
  assert.deepEqual(values('0 9 * * 7', 'dayOfWeek'), [0]);
  assert.deepEqual(values('0 9 * * 5-7', 'dayOfWeek'), [0, 5, 6]);
  // 2025-09-06 is a Saturday.
  assert.deepEqual(next(cron('0 9 * * 7'), 'UTC', '2025-09-06T00:00Z', 2), [iso('2025-09-07T09:00Z'), iso('2025-09-14T09:00Z')]);
  assert.deepEqual(next(cron('0 9 * * 0'), 'UTC', '2025-09-06T00:00Z', 2), next(cron('0 9 * * 7'), 'UTC', '2025-09-06T00:00Z', 2));
  assert.deepEqual(next(cron('0 9 * * 5-7'), 'UTC', '2025-09-04T12:00Z', 4), [iso('2025-09-05T09:00Z'), iso('2025-09-06T09:00Z'), iso('2025-09-07T09:00Z'), iso('2025-09-12T09:00Z')]);
});

test("Vixie's OR: day of month and day of week both restricted match either", () => {
  // The 1st of the month or any Monday. 2025-09-01 is a Monday; October 1st a Wednesday.
  assert.deepEqual(next(cron('0 9 1 * mon'), 'UTC', '2025-09-20T00:00Z', 3), [iso('2025-09-22T09:00Z'), iso('2025-09-29T09:00Z'), iso('2025-10-01T09:00Z')]);
  // With either one left as *, both must match (that is, only the restricted one counts).
  assert.deepEqual(next(cron('0 9 * * mon'), 'UTC', '2025-09-20T00:00Z', 3), [iso('2025-09-22T09:00Z'), iso('2025-09-29T09:00Z'), iso('2025-10-06T09:00Z')]);
  assert.deepEqual(next(cron('0 9 13 * *'), 'UTC', '2025-09-20T00:00Z', 2), [iso('2025-10-13T09:00Z'), iso('2025-11-13T09:00Z')]);
  // A stepped day of month is restricted (only exactly * is not), so the OR applies.
  assert.deepEqual(next(cron('0 9 */10 * fri'), 'UTC', '2025-09-01T12:00Z', 4), [iso('2025-09-05T09:00Z'), iso('2025-09-11T09:00Z'), iso('2025-09-12T09:00Z'), iso('2025-09-19T09:00Z')]);
});

test("steps: '0 */3 * * *' every third hour, '*/15' on the quarter hours", () => {
  assert.deepEqual(next(cron('0 */3 * * *'), 'UTC', '2025-06-01T04:00Z', 3), [iso('2025-06-01T06:00Z'), iso('2025-06-01T09:00Z'), iso('2025-06-01T12:00Z')]);
  assert.deepEqual(next(cron('*/15 * * * *'), 'UTC', '2025-06-01T04:07Z', 3), [iso('2025-06-01T04:15Z'), iso('2025-06-01T04:30Z'), iso('2025-06-01T04:45Z')]);
});

test('crontab() with named fields; unspecified fields mean every', () => {
  const weekdays = crontab({ minute: 0, hour: 9, dayOfWeek: 'mon-fri' });
  assert.equal(weekdays.expression, '0 9 * * mon-fri');
  assert.deepEqual(next(weekdays, 'UTC', '2025-09-05T10:00Z', 2), [iso('2025-09-08T09:00Z'), iso('2025-09-09T09:00Z')]);
  assert.equal(crontab({ minute: [0, 30], hour: '*/2', month: ['jan', 'jul'] }).expression, '0,30 */2 * jan,jul *');
  assert.equal(crontab({}).expression, '* * * * *');
  assert.throws(() => crontab({ minute: 0, day: 1 } as never), /unknown crontab field "day"/);
  assert.throws(() => crontab({ minute: [] }), /minute is an empty list/);
  assert.throws(() => crontab({ minute: 1.5 }), /minute 1.5 must be a whole number/);
});

test('nicknames', () => {
  assert.equal(cron('@daily').expression, '0 0 * * *');
  assert.equal(cron('@hourly').expression, '0 * * * *');
  assert.equal(cron('@weekly').expression, '0 0 * * 0');
  assert.equal(cron('@yearly').expression, '0 0 1 1 *');
});

test('fixed-time versus wild: wild only when minute or hour starts with *', () => {
  for (const expression of ['30 2 * * *', '0,30 2,14 * * *', '0 0-23/2 * * *', '5-55/10 9 * * *', '0 9 * * *']) assert.equal(cron(expression).fixedTime, true, expression);
  for (const expression of ['* 2 * * *', '*/15 * * * *', '0 * * * *', '0 */3 * * *', '*/5,7 9 * * *']) assert.equal(cron(expression).fixedTime, false, expression);
});

test('a cron string as an app writes it', () => {
  const schedule = toSchedule('5 0 * * *', 'entry');
  assert.equal(schedule.type, 'cron');
  assert.deepEqual(toSchedule(cron('5 0 * * *'), 'entry'), schedule);
  assert.throws(() => toSchedule(42, 'entry "x"'), /entry "x": schedule must be a cron string .* got number 42/);
});

test('what is not Vixie cron is refused, naming the field', () => {
  const cases: [string, RegExp][] = [
    ['61 * * * *', /minute "61" has 61, outside 0-59/],
    ['* 24 * * *', /hour "24" has 24, outside 0-23/],
    ['* * 0 * *', /day of month "0" has 0, outside 1-31/],
    ['* * * 13 *', /month "13" has 13, outside 1-12/],
    ['* * * * 8', /day of week "8" has 8, outside 0-7/],
    ['* * * * L', /day of week "L"/],
    ['* * ? * *', /day of month "\?"/],
    ['5/10 * * * *', /a step needs a range/],
    ['10-5 * * * *', /runs backwards/],
    ['*/0 * * * *', /a step must be 1 or more/],
    ['* * * * mon#2', /day of week "mon#2"/],
    ['* * * * monday', /day of week "monday" has "monday"/],
    ['* * * *', /has 4 fields; cron takes five/],
    ['0 * * * * *', /has 6 fields.*seconds are not part of cron here: use every/],
  ];
  for (const [expression, message] of cases) {
    assert.throws(() => cron(expression, 'entry "x"'), (error: unknown) => {
      assert.ok(error instanceof ConfigError, expression);
      assert.match(error.message, message);
      assert.ok(error.message.startsWith('entry "x"'), error.message);
      return true;
    });
  }
});

test('a day of month that never occurs in the months given is refused, naming the entry', () => {
  const cases: [string, string][] = [
    ['0 0 30 feb *', 'entry "x" "0 0 30 feb *": day 30 never occurs in February, so this schedule would never run'],
    ['0 0 31 4,6,9,11 *', 'entry "x" "0 0 31 4,6,9,11 *": day 31 never occurs in April, June, September or November, so this schedule would never run'],
    ['0 0 30,31 2 *', 'entry "x" "0 0 30,31 2 *": days 30,31 never occur in February, so this schedule would never run'],
  ];
  for (const [expression, message] of cases) {
    assert.throws(() => cron(expression, 'entry "x"'), (error: unknown) => error instanceof ConfigError && error.message === message, expression);
  }
  assert.throws(() => crontab({ minute: 0, hour: 0, dayOfMonth: 31, month: [4, 6, 9, 11] }, 'entry "y"'), /entry "y" .*day 31 never occurs in April/);
  // Possible somewhere: February 29 (leap years), a month with the day, or the weekday of Vixie's OR.
  for (const expression of ['0 0 29 feb *', '0 0 31 1-2 *', '0 0 30 feb mon', '0 0 30,1 feb *']) assert.equal(cron(expression).expression, expression);
});

test('the count of fields is said in the singular for one', () => {
  assert.throws(() => cron('daily', 'entry "x"'), /entry "x": "daily" has 1 field; cron takes five/);
});

test('nextFireTime refuses an empty or unknown zone with a ConfigError instead of using the machine\'s zone', () => {
  const nightly = cron('30 2 * * *');
  const from = Date.parse('2025-03-29T12:00:00Z');
  assert.throws(() => nextFireTime(nightly, from, ''), (error: unknown) => error instanceof ConfigError && /cron "30 2 \* \* \*" zone: must be an IANA zone name/.test(error.message));
  assert.throws(() => nextFireTime(nightly, from, 'Mars/Olympus'), (error: unknown) => error instanceof ConfigError && /unknown time zone "Mars\/Olympus"/.test(error.message));
  assert.equal(nextFireTime(nightly, from, 'Europe/Berlin'), Date.parse('2025-03-30T01:00:00Z'));
});
