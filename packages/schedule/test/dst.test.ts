// The DST regression suite. The rules (DESIGN.md, "Beat"): a *fixed-time* entry (neither minute nor hour
// starts with *) fires once at the first instant after a spring-forward gap, and once — at the first
// occurrence — on a wall time repeated by fall-back; a *wild* entry follows real time: it has no runs for
// minutes that do not exist, and fires at both occurrences of a repeated time. No instant fires twice.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cron, formatInZone, nextFireTimes } from '@nightshift/schedule';
import { iso, next } from './support.ts';

/** Fire times as wall time in the zone (with offset), so a failure reads like a clock. */
function wall(expression: string, zone: string, fromIso: string, count: number): string[] {
  return nextFireTimes(cron(expression), Date.parse(fromIso), zone, count).map((ms) => formatInZone(ms, zone));
}

function assertStrictlyIncreasing(expression: string, zone: string, fromIso: string, count: number): void {
  const times = nextFireTimes(cron(expression), Date.parse(fromIso), zone, count);
  for (let i = 1; i < times.length; i++) assert.ok((times[i] as number) > (times[i - 1] as number), `${expression} in ${zone}: run ${i} does not move forward`);
}

describe('Europe/Berlin (02:00 CET → 03:00 CEST on 2025-03-30; 03:00 CEST → 02:00 CET on 2025-10-26)', () => {
  const zone = 'Europe/Berlin';
  test('spring forward, fixed-time: 02:30 does not exist and fires once at 03:00', () => {
    assert.deepEqual(wall('30 2 * * *', zone, '2025-03-29T12:00Z', 3), ['2025-03-30 03:00:00 +02:00', '2025-03-31 02:30:00 +02:00', '2025-04-01 02:30:00 +02:00']);
  });
  test('spring forward, fixed-time with several times in the gap: they meet at 03:00 and fire once', () => {
    assert.deepEqual(wall('0,30 2 * * *', zone, '2025-03-29T12:00Z', 3), ['2025-03-30 03:00:00 +02:00', '2025-03-31 02:00:00 +02:00', '2025-03-31 02:30:00 +02:00']);
    assert.deepEqual(wall('0,30 2,3 * * *', zone, '2025-03-29T23:00Z', 3), ['2025-03-30 03:00:00 +02:00', '2025-03-30 03:30:00 +02:00', '2025-03-31 02:00:00 +02:00']);
  });
  test('spring forward, a stepped hour without * is fixed-time (Vixie), unlike croner\'s own reading', () => {
    assert.deepEqual(wall('0 0-23/2 * * *', zone, '2025-03-29T23:30Z', 3), ['2025-03-30 03:00:00 +02:00', '2025-03-30 04:00:00 +02:00', '2025-03-30 06:00:00 +02:00']);
  });
  test('spring forward, wild: the missing minutes simply have no runs', () => {
    assert.deepEqual(wall('*/30 * * * *', zone, '2025-03-30T00:00Z', 3), ['2025-03-30 01:30:00 +01:00', '2025-03-30 03:00:00 +02:00', '2025-03-30 03:30:00 +02:00']);
    assert.deepEqual(wall('* 2 * * *', zone, '2025-03-29T12:00Z', 1), ['2025-03-31 02:00:00 +02:00'], 'no run at all on the day 02:xx is missing');
  });
  test('fall back, fixed-time: 02:30 happens twice and fires once, at the first', () => {
    assert.deepEqual(next(cron('30 2 * * *'), zone, '2025-10-25T12:00Z', 2), [iso('2025-10-26T00:30Z'), iso('2025-10-27T01:30Z')]);
    assert.deepEqual(wall('30 2 * * *', zone, '2025-10-25T12:00Z', 2), ['2025-10-26 02:30:00 +02:00', '2025-10-27 02:30:00 +01:00']);
  });
  test('fall back, fixed-time, asked from inside the repeated hour: not again', () => {
    assert.deepEqual(next(cron('30 2 * * *'), zone, '2025-10-26T00:45Z', 1), [iso('2025-10-27T01:30Z')]);
    assert.deepEqual(next(cron('30 2 * * *'), zone, '2025-10-26T01:10Z', 1), [iso('2025-10-27T01:30Z')]);
  });
  test('fall back, wild: both occurrences, in real time', () => {
    assert.deepEqual(wall('*/30 * * * *', zone, '2025-10-25T23:45Z', 5), [
      '2025-10-26 02:00:00 +02:00', '2025-10-26 02:30:00 +02:00', '2025-10-26 02:00:00 +01:00', '2025-10-26 02:30:00 +01:00', '2025-10-26 03:00:00 +01:00',
    ]);
    assert.equal(nextFireTimes(cron('* 2 * * *'), Date.parse('2025-10-25T12:00Z'), zone, 121).filter((ms) => ms < Date.parse('2025-10-26T12:00Z')).length, 120);
  });
});

describe('America/New_York (02:00 EST → 03:00 EDT on 2025-03-09; 02:00 EDT → 01:00 EST on 2025-11-02)', () => {
  const zone = 'America/New_York';
  test('spring forward, fixed-time: 02:30 fires at 03:00 EDT', () => {
    assert.deepEqual(next(cron('30 2 * * *'), zone, '2025-03-08T12:00Z', 2), [iso('2025-03-09T07:00Z'), iso('2025-03-10T06:30Z')]);
  });
  test('spring forward, wild: 01:45 EST is followed by 03:00 EDT', () => {
    assert.deepEqual(wall('*/15 * * * *', zone, '2025-03-09T06:40Z', 2), ['2025-03-09 01:45:00 -05:00', '2025-03-09 03:00:00 -04:00']);
  });
  test('fall back, fixed-time: 01:30 fires once, at 01:30 EDT', () => {
    assert.deepEqual(next(cron('30 1 * * *'), zone, '2025-11-01T12:00Z', 2), [iso('2025-11-02T05:30Z'), iso('2025-11-03T06:30Z')]);
    assert.deepEqual(next(cron('30 1 * * *'), zone, '2025-11-02T05:40Z', 1), [iso('2025-11-03T06:30Z')]);
  });
  test('fall back, wild: every 15 minutes never pauses for an hour', () => {
    assert.deepEqual(next(cron('*/15 * * * *'), zone, '2025-11-02T05:40Z', 6), [
      iso('2025-11-02T05:45Z'), iso('2025-11-02T06:00Z'), iso('2025-11-02T06:15Z'), iso('2025-11-02T06:30Z'), iso('2025-11-02T06:45Z'), iso('2025-11-02T07:00Z'),
    ]);
  });
});

describe('Australia/Sydney (03:00 AEDT → 02:00 AEST on 2025-04-06; 02:00 AEST → 03:00 AEDT on 2025-10-05)', () => {
  const zone = 'Australia/Sydney';
  test('fall back, fixed-time: 02:30 fires once, at the first (AEDT)', () => {
    assert.deepEqual(wall('30 2 * * *', zone, '2025-04-05T00:00Z', 2), ['2025-04-06 02:30:00 +11:00', '2025-04-07 02:30:00 +10:00']);
  });
  test('fall back, wild: 02:00 on the hour fires at both', () => {
    assert.deepEqual(wall('0 * * * *', zone, '2025-04-05T14:30Z', 3), ['2025-04-06 02:00:00 +11:00', '2025-04-06 02:00:00 +10:00', '2025-04-06 03:00:00 +10:00']);
  });
  test('spring forward, fixed-time: 02:30 fires at 03:00 AEDT', () => {
    assert.deepEqual(wall('30 2 * * *', zone, '2025-10-04T00:00Z', 2), ['2025-10-05 03:00:00 +11:00', '2025-10-06 02:30:00 +11:00']);
    assert.deepEqual(next(cron('30 2 * * *'), zone, '2025-10-04T00:00Z', 1), [iso('2025-10-04T16:00Z')]);
  });
  test('spring forward, wild: 01:00 AEST is followed by 03:00 AEDT', () => {
    assert.deepEqual(wall('0 * * * *', zone, '2025-10-04T14:30Z', 2), ['2025-10-05 01:00:00 +10:00', '2025-10-05 03:00:00 +11:00']);
  });
});

describe('Asia/Kolkata (no DST today; +05:30 → +06:30 on 1942-09-01, +06:30 → +05:30 on 1945-10-15)', () => {
  const zone = 'Asia/Kolkata';
  test('today: a fixed time is the same instant on the days other zones switch, at the half-hour offset', () => {
    for (const day of ['2025-03-09', '2025-03-30', '2025-04-06', '2025-10-05', '2025-10-26', '2025-11-02']) {
      const previous = new Date(Date.parse(`${day}T00:00Z`) - 86_400_000).toISOString().slice(0, 10);
      assert.deepEqual(next(cron('30 2 * * *'), zone, `${previous}T12:00Z`, 1), [iso(`${previous}T21:00Z`)], day);
    }
  });
  test('1942 spring forward: 00:30 does not exist and fires once at 01:00 (+06:30)', () => {
    assert.deepEqual(wall('30 0 * * *', zone, '1942-08-31T12:00Z', 2), ['1942-09-01 01:00:00 +06:30', '1942-09-02 00:30:00 +06:30']);
  });
  test('1945 fall back: 23:30 on 14 October happens twice and fires once', () => {
    assert.deepEqual(wall('30 23 * * *', zone, '1945-10-13T12:00Z', 3), ['1945-10-13 23:30:00 +06:30', '1945-10-14 23:30:00 +06:30', '1945-10-15 23:30:00 +05:30']);
    assert.deepEqual(wall('*/30 23 * * *', zone, '1945-10-14T16:00Z', 4), ['1945-10-14 23:00:00 +06:30', '1945-10-14 23:30:00 +06:30', '1945-10-14 23:00:00 +05:30', '1945-10-14 23:30:00 +05:30']);
  });
});

test('no instant ever fires twice, across every transition above', () => {
  const cases: [string, string][] = [
    ['Europe/Berlin', '2025-03-29T00:00Z'], ['Europe/Berlin', '2025-10-25T00:00Z'], ['America/New_York', '2025-03-08T00:00Z'],
    ['America/New_York', '2025-11-01T00:00Z'], ['Australia/Sydney', '2025-04-05T00:00Z'], ['Australia/Sydney', '2025-10-04T00:00Z'],
  ];
  for (const [zone, from] of cases) {
    for (const expression of ['*/15 * * * *', '30 2 * * *', '0,30 1-3 * * *', '0 * * * *', '* 2 * * *', '0 0-23/2 * * *']) assertStrictlyIncreasing(expression, zone, from, 150);
  }
});
