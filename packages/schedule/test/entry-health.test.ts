import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRuntimeEntry, judgeEntry, type EntryFacts, type EntryRunFact } from '@nightshift/schedule';

const DAY = 86_400_000;
const at = (iso: string) => Date.parse(iso);
const daily = compileRuntimeEntry({ name: 'nightly', task: 'reports.send', schedule: '0 9 * * *' });
const HORIZON = 600_000; // 10 minutes

function facts(overrides: Partial<EntryFacts> = {}): EntryFacts {
  return {
    lastSuccess: { scheduledForMs: at('2027-01-04T09:00:00Z'), finishedAtMs: at('2027-01-04T09:01:00Z') },
    watchedSinceMs: at('2027-01-01T00:00:00Z'),
    paused: false,
    recentRuns: [{ id: 'r1', scheduledForMs: at('2027-01-04T09:00:00Z'), state: 'succeeded' }],
    notSent: {},
    beatLeader: true,
    consumers: 1,
    queue: 'reports',
    ...overrides,
  };
}

test('a success is due by the next fire time plus the run horizon plus the tolerance; after that the entry is overdue', () => {
  const healthy = judgeEntry(daily, 'UTC', HORIZON, facts(), at('2027-01-05T09:14:59Z'));
  assert.equal(healthy.status, 'healthy');
  assert.equal(new Date(healthy.dueByMs as number).toISOString(), '2027-01-05T09:15:00.000Z');
  assert.equal(healthy.lastSuccessMs, at('2027-01-04T09:01:00Z'));
  const overdue = judgeEntry(daily, 'UTC', HORIZON, facts(), at('2027-01-05T09:15:01Z'));
  assert.equal(overdue.status, 'overdue');
  assert.match(overdue.cause as string, /^the last run \(.*\) has not finished|^no success since/);
});

test('the entry\'s own zone moves its due time', () => {
  const tokyo = compileRuntimeEntry({ name: 'tokyo', task: 'reports.send', schedule: '0 9 * * *', timezone: 'Asia/Tokyo' });
  const health = judgeEntry(tokyo, 'UTC', HORIZON, facts({ lastSuccess: { scheduledForMs: at('2027-01-04T00:00:00Z'), finishedAtMs: at('2027-01-04T00:01:00Z') } }), at('2027-01-04T12:00:00Z'));
  assert.equal(new Date(health.dueByMs as number).toISOString(), '2027-01-05T00:15:00.000Z');
});

test('an entry that never succeeded is due after its first fire time once watched', () => {
  const health = judgeEntry(daily, 'UTC', HORIZON, facts({ lastSuccess: undefined, recentRuns: [], watchedSinceMs: at('2027-01-04T12:00:00Z') }), at('2027-01-05T10:00:00Z'));
  assert.equal(health.status, 'overdue');
  assert.equal(new Date(health.dueByMs as number).toISOString(), '2027-01-05T09:15:00.000Z');
  assert.equal(health.cause, 'no run of this entry is in the task history');
});

test('a resumed or changed entry (watched since then) is due after its next fire time, not after its last success', () => {
  // Paused for a week: its last success is old, but nothing was due while it was paused.
  const resumed = facts({ watchedSinceMs: at('2027-01-11T12:00:00Z') });
  const health = judgeEntry(daily, 'UTC', HORIZON, resumed, at('2027-01-11T12:00:05Z'));
  assert.equal(health.status, 'healthy');
  assert.equal(new Date(health.dueByMs as number).toISOString(), '2027-01-12T09:15:00.000Z');
  assert.equal(judgeEntry(daily, 'UTC', HORIZON, facts(), at('2027-01-11T12:00:05Z')).status, 'overdue', 'without the resume it is a week overdue');
});

test('the cause names what is most likely wrong: no leader, then no consumer, then failures, then runs not sent', () => {
  const late = at('2027-01-05T12:00:00Z');
  const waiting: EntryRunFact = { id: 'r2', scheduledForMs: at('2027-01-05T09:00:00Z'), state: 'sent' };
  const judge = (overrides: Partial<EntryFacts>) => judgeEntry(daily, 'UTC', HORIZON, facts(overrides), late).cause;
  assert.match(judge({ beatLeader: false, consumers: 0 }) as string, /^no beat leader/);
  assert.equal(judge({ consumers: 0, recentRuns: [waiting] }), 'no worker consuming the queue "reports": the run of 2027-01-05 09:00:00 +00:00 is waiting in it');
  const failed: EntryRunFact = { id: 'r3', scheduledForMs: at('2027-01-05T09:00:00Z'), state: 'dead-lettered', error: 'TimeoutError: partner API' };
  assert.equal(judge({ recentRuns: [failed] }), 'the last run was dead-lettered: TimeoutError: partner API');
  assert.equal(judge({ recentRuns: [], notSent: { overlap: 2, paused: 0 } }), 'runs were not sent: 2 overlap');
  assert.match(judge({ recentRuns: [{ ...waiting, state: 'started' }] }) as string, /has not finished: it is started/);
});

test('failing: afterFailures runs in a row dead-lettered; a success ends the streak', () => {
  const entry = compileRuntimeEntry({ name: 'n', task: 'reports.send', schedule: '0 9 * * *', alert: { afterFailures: 3 } });
  const dead = (day: number): EntryRunFact => ({ id: `d${day}`, scheduledForMs: at('2027-01-01T09:00:00Z') + day * DAY, state: 'dead-lettered', error: 'boom' });
  const ok = (day: number): EntryRunFact => ({ id: `s${day}`, scheduledForMs: at('2027-01-01T09:00:00Z') + day * DAY, state: 'succeeded' });
  const now = at('2027-01-04T09:30:00Z');
  const lastSuccess = { scheduledForMs: at('2027-01-04T09:00:00Z'), finishedAtMs: now - 60_000 };
  const two = judgeEntry(entry, 'UTC', HORIZON, facts({ lastSuccess, recentRuns: [dead(3), dead(2), ok(1)] }), now);
  assert.equal(two.status, 'healthy');
  assert.equal(two.consecutiveFailures, 2);
  const three = judgeEntry(entry, 'UTC', HORIZON, facts({ lastSuccess, recentRuns: [dead(3), { ...dead(2), state: 'started' as const }, dead(1), dead(0)] }), now);
  assert.equal(three.status, 'failing');
  assert.equal(three.consecutiveFailures, 3);
  assert.equal(three.cause, 'the last 3 runs were dead-lettered: boom');
  assert.equal(judgeEntry(entry, 'UTC', HORIZON, facts({ lastSuccess, recentRuns: [ok(4), dead(3), dead(2), dead(1)] }), now).status, 'healthy');
});

test('paused, switched off and ended entries are never overdue', () => {
  const late = at('2027-02-01T00:00:00Z');
  assert.equal(judgeEntry(daily, 'UTC', HORIZON, facts({ paused: true }), late).status, 'paused');
  const off = compileRuntimeEntry({ name: 'off', task: 'reports.send', schedule: '0 9 * * *', alert: { overdueAfter: false } });
  const health = judgeEntry(off, 'UTC', HORIZON, facts(), late);
  assert.equal(health.status, 'healthy');
  assert.equal(health.dueByMs, undefined);
  const ended = compileRuntimeEntry({ name: 'e', task: 'reports.send', schedule: '0 9 * * *', endAt: '2027-01-04T12:00:00Z' });
  assert.equal(judgeEntry(ended, 'UTC', HORIZON, facts(), late).status, 'ended');
});
