// The next DST change in words, for `nightshift schedule explain`: each sentence is checked against the fire
// times the scheduler really computes (dst.test.ts), so the words cannot promise what beat does not do.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cron, describeNextDstChange, every, nextOffsetChange } from '@nightshift/schedule';

const WINTER = Date.parse('2027-01-10T00:00:00Z');
const SUMMER = Date.parse('2027-06-10T00:00:00Z');
const berlin = (expression: string, from: number) => describeNextDstChange(cron(expression), 'Europe/Berlin', from);

test('the next change of offset is found to the millisecond, with the offsets either side', () => {
  assert.deepEqual(nextOffsetChange('Europe/Berlin', WINTER), { at: Date.parse('2027-03-28T01:00:00Z'), beforeMinutes: 60, afterMinutes: 120 });
  assert.deepEqual(nextOffsetChange('Europe/Berlin', SUMMER), { at: Date.parse('2027-10-31T01:00:00Z'), beforeMinutes: 120, afterMinutes: 60 });
  assert.deepEqual(nextOffsetChange('Australia/Lord_Howe', WINTER), { at: Date.parse('2027-04-03T15:00:00Z'), beforeMinutes: 660, afterMinutes: 630 });
  assert.equal(nextOffsetChange('UTC', WINTER), undefined);
  assert.equal(nextOffsetChange('Asia/Tokyo', WINTER), undefined);
});

test('spring forward: a fixed time in the gap is said not to exist, and when it runs instead', () => {
  assert.equal(berlin('30 2 * * *', WINTER), 'on 2027-03-28, 02:30 does not exist in Europe/Berlin (clocks go forward from 02:00 to 03:00): runs once at 03:00');
  assert.equal(berlin('0,30 2 * * *', WINTER), 'on 2027-03-28, 02:00 and 02:30 do not exist in Europe/Berlin (clocks go forward from 02:00 to 03:00): runs once at 03:00');
});

test('fall back: a fixed time in the overlap runs once, at the first occurrence', () => {
  assert.equal(berlin('30 2 * * *', SUMMER), 'on 2027-10-31, 02:30 happens twice in Europe/Berlin (clocks go back from 03:00 to 02:00): runs once, at the first (02:30:00 +02:00)');
});

test('a wild entry follows real time through both', () => {
  assert.equal(berlin('*/15 * * * *', WINTER), 'on 2027-03-28, clocks go forward from 02:00 to 03:00 in Europe/Berlin: no runs between them (this entry follows real time)');
  assert.equal(berlin('*/15 * * * *', SUMMER), 'on 2027-10-31, clocks go back from 03:00 to 02:00 in Europe/Berlin: 02:00–03:00 happens twice and this entry runs in both (it follows real time)');
});

test('an entry with no run in the gap or on that day is said not to be affected', () => {
  assert.equal(berlin('0 9 * * *', WINTER), 'on 2027-03-28, clocks go forward from 02:00 to 03:00 in Europe/Berlin; this entry has no run then, so it is not affected');
  // 2027-03-28 is a Sunday.
  assert.equal(berlin('30 2 * * mon', WINTER), 'on 2027-03-28, clocks go forward from 02:00 to 03:00 in Europe/Berlin; this entry has no run then, so it is not affected');
  assert.match(berlin('30 2 * * sun', WINTER) ?? '', /02:30 does not exist/);
});

test('nothing is said for an interval (it ignores the zone) or a zone without DST', () => {
  assert.equal(describeNextDstChange(every('15m'), 'Europe/Berlin', WINTER), undefined);
  assert.equal(describeNextDstChange(cron('30 2 * * *'), 'UTC', WINTER), undefined);
});
