import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readableDuration } from '../src/readable-duration.ts';

test('durations read as in a sentence', () => {
  const cases: Array<[number, string]> = [
    [0, '0 ms'], [20, '20 ms'], [999, '999 ms'], [1_000, '1 s'], [5_221, '5.2 s'], [35_000, '35 s'], [59_949, '59.9 s'],
    [59_950, '1 min'], [60_000, '1 min'], [125_000, '2 min 5 s'], [3_599_600, '1 h'], [5_400_000, '1 h 30 min'], [90_000_000, '25 h'],
  ];
  for (const [ms, text] of cases) assert.equal(readableDuration(ms), text, String(ms));
});
