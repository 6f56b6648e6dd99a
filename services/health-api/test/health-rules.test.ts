import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadHealthApiConfig } from '../src/config.ts';
import { backgroundHealth } from '../src/health.ts';
import type { BeatView } from '../src/live/beat-status.ts';
import type { Snapshot } from '../src/live/state-poller.ts';
import type { WorkerView } from '../src/live/worker-registry.ts';

const thresholds = loadHealthApiConfig({}).thresholds;
const worker = { name: 'w1', status: 'online', active: 0, reserved: 0 } as WorkerView;
const beat: BeatView = { leader: null, lease: { redisUp: true, holder: null, expiresInMs: null, checkedAt: null }, leaderless: false,
  lastDispatcher: null, lastDispatchAt: null, lastDispatchAgeMs: null, entries: [], overdue: [] };

function judge(succeeded: number, failed: number) {
  const snapshot: Snapshot = { brokerUp: true, storeUp: true, deadLettersPending: 0, lastHour: null, historyRows: 0, queues: new Map(),
    polledAt: '2025-03-01T00:00:00.000Z', depthHistory: [], window: { succeeded, failed, failureRate: failed / (succeeded + failed) } };
  return backgroundHealth(snapshot, [worker], beat, false, thresholds, 5_000);
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
