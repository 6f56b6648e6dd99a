// Interval runs are anchored to the schedule, not to when the last send finished: a simulated clock runs
// a beat-like loop for 30 days, waking late and taking time to send each run, and no run moves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileMisfire, cron, dueRuns, every, nextFireTime, planRuns, runsToKeep, type Schedule } from '@nightshift/schedule';
import { seeded } from './support.ts';

const DAY = 86_400_000;
const START = Date.parse('2025-03-01T00:00:00Z');

interface Simulation {
  readonly sent: number[];
  readonly sentAt: number[];
}

/** Sleeps until each next fire time, wakes up to `maxWakeLagMs` late, then spends up to `maxSendMs` sending. */
function simulate(schedule: Schedule, zone: string, days: number, maxWakeLagMs: number, maxSendMs: number, seed = 7): Simulation {
  const random = seeded(seed);
  const policy = compileMisfire('once', 'sim');
  const sent: number[] = [];
  const sentAt: number[] = [];
  let clock = START;
  let last = START;
  while (clock < START + days * DAY) {
    const wake = nextFireTime(schedule, Math.max(last, clock), zone);
    clock = wake + Math.floor(random() * maxWakeLagMs);
    const due = dueRuns(schedule, last, clock, zone, runsToKeep(policy));
    const plan = planRuns(due, clock, policy, (at) => nextFireTime(schedule, at, zone));
    for (const run of plan.send) {
      clock += Math.floor(random() * maxSendMs);
      sent.push(run);
      sentAt.push(clock);
    }
    last = plan.through ?? last;
  }
  return { sent, sentAt };
}

test("every('5m') for 30 days: every run on its mark, none lost, none twice", () => {
  const { sent, sentAt } = simulate(every('5m'), 'UTC', 30, 2_000, 800);
  assert.equal(sent.length, 30 * 288);
  sent.forEach((run, index) => assert.equal(run, START + (index + 1) * 300_000, `run ${index} moved`));
  assert.equal(sent.at(-1), START + 30 * DAY);
  // The clock was late every time, yet the lateness never accumulates.
  const lags = sent.map((run, index) => (sentAt[index] as number) - run);
  assert.ok(Math.max(...lags) < 2_800, `lag stays bounded, got ${Math.max(...lags)}ms`);
});

test('a naive "sleep the interval after each send" loop would have drifted by hours', () => {
  const random = seeded(7);
  let clock = START;
  for (let i = 0; i < 30 * 288; i++) clock += 300_000 + Math.floor(random() * 2_000) + Math.floor(random() * 800);
  assert.ok(clock - (START + 30 * DAY) > 3_600_000, 'the naive loop is the one that drifts');
});

test("every({ seconds: 7 }) for 30 days, odd against the minute: still exactly on the grid", () => {
  const { sent } = simulate(every({ seconds: 7 }), 'UTC', 30, 300, 50, 11);
  const first = sent[0] as number;
  assert.equal(first % 7_000, 0, 'anchored to the epoch');
  assert.equal(first, Math.ceil(START / 7_000) * 7_000 + (START % 7_000 === 0 ? 7_000 : 0));
  sent.forEach((run, index) => assert.equal(run, first + index * 7_000));
  assert.ok((sent.at(-1) as number) >= START + 30 * DAY);
});

test("cron '*/5 * * * *' in Europe/Berlin across the March DST change: real time never pauses", () => {
  const { sent } = simulate(cron('*/5 * * * *'), 'Europe/Berlin', 30, 2_000, 800, 3);
  // 01:55 CET is followed by 03:00 CEST, five real minutes later: 30 × 288 runs, all on the marks.
  assert.equal(sent.length, 30 * 288);
  sent.forEach((run, index) => assert.equal(run, START + (index + 1) * 300_000));
});

test("cron '30 2 * * *' in Europe/Berlin for 30 days: one run a day, 03:00 on the day 02:30 is missing", () => {
  const { sent } = simulate(cron('30 2 * * *'), 'Europe/Berlin', 30, 2_000, 800, 5);
  const times = sent.map((ms) => new Date(ms).toISOString().slice(5, 16));
  assert.equal(times.length, 31, 'March 1st to 31st');
  assert.equal(times[0], '03-01T01:30');
  assert.equal(times[28], '03-29T01:30');
  assert.equal(times[29], '03-30T01:00');
  assert.equal(times[30], '03-31T00:30');
});
