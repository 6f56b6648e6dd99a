import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cron, crontab, describeSchedule, every, formatInZone } from '@nightshift/schedule';

test('cron schedules in words, with the zone they are read in', () => {
  const cases: [string, string][] = [
    ['0 9 * * mon-fri', 'at 09:00 on Monday through Friday, Europe/Berlin'],
    ['5 0 * * *', 'at 00:05, Europe/Berlin'],
    ['0 */3 * * *', 'at minute 0 past every 3rd hour, Europe/Berlin'],
    ['*/15 * * * *', 'every 15 minutes, Europe/Berlin'],
    ['* * * * *', 'every minute, Europe/Berlin'],
    ['* 2 * * *', 'every minute past hour 2, Europe/Berlin'],
    ['15 * * * *', 'at minute 15 past every hour, Europe/Berlin'],
    ['0 9,17 * * *', 'at 09:00 and 17:00, Europe/Berlin'],
    ['0,30 9-17 * * 1-5', 'at minute 0 and 30 past hour 9 through 17 on Monday through Friday, Europe/Berlin'],
    ['30 2 1,15 * *', 'at 02:30 on day-of-month 1 and 15, Europe/Berlin'],
    ['30 2 1 * sun', 'at 02:30 on day-of-month 1 or on Sunday, Europe/Berlin'],
    ['0 0 1 jan,jul *', 'at 00:00 on day-of-month 1 in January and July, Europe/Berlin'],
    ['0 0 * * 7', 'at 00:00 on Sunday, Europe/Berlin'],
  ];
  for (const [expression, words] of cases) assert.equal(describeSchedule(cron(expression), 'Europe/Berlin'), words, expression);
  assert.equal(describeSchedule(crontab({ minute: 0, hour: 9, dayOfWeek: 'mon-fri' }), 'Europe/Berlin'), 'at 09:00 on Monday through Friday, Europe/Berlin');
});

test('intervals in words; they do not depend on a zone', () => {
  assert.equal(describeSchedule(every('5m'), 'Europe/Berlin'), 'every 5 minutes');
  assert.equal(describeSchedule(every({ seconds: 30 }), 'UTC'), 'every 30 seconds');
  assert.equal(describeSchedule(every('1h'), 'UTC'), 'every hour');
  assert.equal(describeSchedule(every('90m'), 'UTC'), 'every 90 minutes');
  assert.equal(describeSchedule(every('1d', { anchor: '2025-01-01T06:00:00Z' }), 'UTC'), 'every day from 2025-01-01T06:00:00.000Z');
});

test('instants as wall time in a zone, with the offset in force', () => {
  assert.equal(formatInZone(Date.parse('2025-10-26T00:30:00Z'), 'Europe/Berlin'), '2025-10-26 02:30:00 +02:00');
  assert.equal(formatInZone(Date.parse('2025-10-26T01:30:00Z'), 'Europe/Berlin'), '2025-10-26 02:30:00 +01:00');
  assert.equal(formatInZone(Date.parse('2025-11-02T06:30:00Z'), 'America/New_York'), '2025-11-02 01:30:00 -05:00');
  assert.equal(formatInZone(0, 'UTC'), '1970-01-01 00:00:00 +00:00');
  assert.equal(formatInZone(0, 'Asia/Kolkata'), '1970-01-01 05:30:00 +05:30');
});
