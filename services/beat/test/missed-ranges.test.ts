// Which fire times a misfire plan leaves unsent, as the ranges beat.missed announces: pure, with fixed dates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileMisfire, dueRuns, every, nextFireTime, planRuns, runsToKeep, type MisfirePolicy } from '@nightshift/schedule';
import { missedRanges } from '../src/missed-fires.ts';

const minute = every('1m');
const T0 = Date.parse('2026-03-02T09:00:00Z');
const at = (minutes: number) => T0 + minutes * 60_000;
const firstAfter = (ms: number) => nextFireTime(minute, ms, 'UTC');

/** After a downtime: the watermark at 09:00, woken at `nowMinutes`. */
function plan(policy: MisfirePolicy, nowMinutes: number) {
  const due = dueRuns(minute, T0, at(nowMinutes), 'UTC', runsToKeep(policy) + 1);
  const runPlan = planRuns(due, at(nowMinutes), policy, firstAfter);
  return { runPlan, ranges: missedRanges(policy, due, runPlan, T0, firstAfter) };
}

const iso = (ranges: ReturnType<typeof missedRanges>) => ranges.map((r) => ({ ...r, from: new Date(r.from).toISOString(), through: new Date(r.through).toISOString() }));

test("'once' on time after a downtime: the older fire times coalesced into the one sent, as one range", () => {
  const { runPlan, ranges } = plan(compileMisfire('once', 'test'), 10);
  assert.deepEqual(runPlan.send, [at(10)]);
  assert.deepEqual(iso(ranges), [{ reason: 'coalesced', from: '2026-03-02T09:01:00.000Z', through: '2026-03-02T09:09:00.000Z', count: 9 }]);
});

test("'once' past its grace: the newest expired, the rest coalesced; the counts are the plan's", () => {
  const policy = compileMisfire({ policy: 'once', grace: '10s' }, 'test');
  const due = dueRuns(minute, T0, at(10) + 30_000, 'UTC', 2);
  const runPlan = planRuns(due, at(10) + 30_000, policy, firstAfter);
  assert.deepEqual(runPlan.send, []);
  const ranges = missedRanges(policy, due, runPlan, T0, firstAfter);
  assert.deepEqual(iso(ranges), [
    { reason: 'coalesced', from: '2026-03-02T09:01:00.000Z', through: '2026-03-02T09:09:00.000Z', count: 9 },
    { reason: 'expired', from: '2026-03-02T09:10:00.000Z', through: '2026-03-02T09:10:00.000Z', count: 1 },
  ]);
  assert.equal(ranges.reduce((sum, r) => sum + r.count, 0), (runPlan.missed.coalesced ?? 0) + (runPlan.missed.expired ?? 0));
});

test("'skip' out of grace: every fire time skipped, one range", () => {
  const policy = compileMisfire('skip', 'test');
  const due = dueRuns(minute, T0, at(3) + 5_000, 'UTC', 2);
  const runPlan = planRuns(due, at(3) + 5_000, policy, firstAfter);
  assert.deepEqual(iso(missedRanges(policy, due, runPlan, T0, firstAfter)), [
    { reason: 'skipped', from: '2026-03-02T09:01:00.000Z', through: '2026-03-02T09:03:00.000Z', count: 3 },
  ]);
});

test("'all' over its cap: the oldest over-cap, the kept ones sent; none missed when within the cap", () => {
  const { runPlan, ranges } = plan(compileMisfire({ policy: 'all', cap: 3 }, 'test'), 10);
  assert.deepEqual(runPlan.send, [at(8), at(9), at(10)]);
  assert.deepEqual(iso(ranges), [{ reason: 'over-cap', from: '2026-03-02T09:01:00.000Z', through: '2026-03-02T09:07:00.000Z', count: 7 }]);
  assert.deepEqual(plan(compileMisfire({ policy: 'all', cap: 3 }, 'test'), 2).ranges, []);
});

test("'all' with a grace: the kept fire times past it expire, one range of them", () => {
  const policy = compileMisfire({ policy: 'all', cap: 4, grace: '90s' }, 'test');
  const due = dueRuns(minute, T0, at(6), 'UTC', 5);
  const runPlan = planRuns(due, at(6), policy, firstAfter);
  assert.deepEqual(runPlan.send, [at(5), at(6)]);
  assert.deepEqual(iso(missedRanges(policy, due, runPlan, T0, firstAfter)), [
    { reason: 'over-cap', from: '2026-03-02T09:01:00.000Z', through: '2026-03-02T09:02:00.000Z', count: 2 },
    { reason: 'expired', from: '2026-03-02T09:03:00.000Z', through: '2026-03-02T09:04:00.000Z', count: 2 },
  ]);
});

test('on time, nothing is missed', () => {
  assert.deepEqual(plan(compileMisfire('once', 'test'), 1).ranges, []);
});
