import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadHealthApiConfig } from '../src/config.ts';
import { backgroundHealth } from '../src/health.ts';
import type { BeatView } from '../src/live/beat-status.ts';
import type { Snapshot } from '../src/live/state-poller.ts';
import type { WorkerView } from '../src/live/worker-registry.ts';
import type { ScheduleJudgement } from '@nightshift/store';

const thresholds = loadHealthApiConfig({}).thresholds;
const worker = { name: 'w1', status: 'online', active: 0, reserved: 0 } as WorkerView;
const beat: BeatView = { leader: null, lease: { redisUp: true, holder: null, expiresInMs: null, checkedAt: null }, leaderless: false,
  lastDispatcher: null, lastDispatchAt: null, lastDispatchAgeMs: null, entries: [], overdue: [] };

function judge(succeeded: number, failed: number, schedules: Snapshot['schedules'] = null, nowMs = Date.parse('2025-03-01T00:00:01.000Z')) {
  const snapshot: Snapshot = { brokerUp: true, storeUp: true, deadLettersPending: 0, lastHour: null, retriedLastHour: null, historyRows: 0, schedules, queues: new Map(), ladder: new Map(),
    polledAt: '2025-03-01T00:00:00.000Z', depthHistory: [], window: { succeeded, failed, failureRate: failed / (succeeded + failed) } };
  return backgroundHealth(snapshot, [worker], beat, false, thresholds, 5_000, nowMs);
}

test('below the minimum of finished runs, no failure rate makes background work degraded or critical', () => {
  assert.equal(thresholds.minRuns, 20);
  for (const [succeeded, failed] of [[5, 5], [6, 4], [0, 19]] as const) {
    const health = judge(succeeded, failed);
    assert.deepEqual([health.status, health.reasons], ['healthy', []], `${failed} of ${succeeded + failed}`);
    assert.equal(health.failureRate?.minRuns, 20);
  }
});

test('from the minimum on, the rate counts and the reason names the threshold it passed', () => {
  assert.deepEqual([judge(16, 4).status, judge(16, 4).reasons], ['degraded', ['20% of 20 runs failed in the last 300s (degraded at 20%)']]);
  assert.deepEqual([judge(10, 10).status, judge(10, 10).reasons], ['critical', ['50% of 20 runs failed in the last 300s (critical at 50%)']]);
  assert.deepEqual(judge(17, 3).status, 'healthy');
});

const judged = (entry: string, status: ScheduleJudgement['status'], judgedAt = '2025-03-01T00:00:00.000Z'): [string, ScheduleJudgement] => [entry, {
  entry, source: 'code', status, cause: status === 'overdue' ? 'no worker consuming the queue "reports"' : null, dueBy: '2025-02-28T23:59:00.000Z',
  lastSuccessAt: null, lastSuccessFire: null, consecutiveFailures: status === 'failing' ? 3 : 0, judgedAt,
}];

test('an entry the alerter judged overdue makes background work degraded, with its cause; a failing one is listed only', () => {
  const health = judge(0, 0, new Map([judged('nightly', 'overdue'), judged('hourly', 'failing'), judged('ok', 'healthy')]));
  assert.equal(health.status, 'degraded');
  assert.deepEqual(health.reasons, ['schedule nightly is overdue: no worker consuming the queue "reports" (a success was due by 2025-02-28T23:59:00.000Z)']);
  assert.deepEqual(health.schedules, { overdue: ['nightly'], failing: ['hourly'], judgedAt: '2025-03-01T00:00:00.000Z' });
  assert.equal(judge(0, 0, new Map([judged('hourly', 'failing')])).status, 'healthy');
  assert.deepEqual(judge(0, 0, null).schedules, { overdue: [], failing: [], judgedAt: null }, 'no alerter: nothing judged, nothing said');
});

test('judgements older than 5 minutes: degraded, because nobody pages an overdue schedule', () => {
  const stale = judge(0, 0, new Map([judged('ok', 'healthy')]), Date.parse('2025-03-01T00:06:00.000Z'));
  assert.equal(stale.status, 'degraded');
  assert.match(stale.reasons[0] ?? '', /the alerter last judged them 6 min ago, so no overdue schedule is paged \(is the alerter running\?\)/);
  const leftOver = judge(0, 0, new Map([judged('gone', 'overdue', '2025-03-01T00:00:00.000Z'), judged('ok', 'healthy', '2025-03-01T00:05:59.000Z')]), Date.parse('2025-03-01T00:06:00.000Z'));
  assert.deepEqual([leftOver.status, leftOver.reasons, leftOver.schedules.overdue], ['healthy', [], []], 'an old overdue verdict nobody renews is not current');
});
