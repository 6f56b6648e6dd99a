// The incident rules as a pure function: what each change of an entry's health tells, step by step, with fixed times.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_ENTRY_ALERT, type EntryAlert, type EntryHealth } from '@nightshift/schedule';
import type { IncidentState, NotSentFires } from '@nightshift/store';
import { decideIncident, pauseDue, type IncidentInput } from '../src/schedule-watch/incident.ts';

const T0 = Date.parse('2030-06-01T02:00:00Z');
const MIN = 60_000;
const QUIET: IncidentState = {
  phase: 'quiet', openedStatus: null, openedAt: null, openedLastSuccessAt: null, recoveredAt: null, flapSince: null, flapChanges: 0,
  flapLastChangeAt: null, flapBad: null, missedSeq: '0', missedPagedAt: null, pauseToldFor: null,
};
const healthy = (lastSuccessMs: number | undefined = T0): EntryHealth => ({ status: 'healthy', dueByMs: T0 + 60 * MIN, lastSuccessMs, consecutiveFailures: 0, cause: undefined });
const overdue = (lastSuccessMs: number | undefined = T0): EntryHealth => ({
  status: 'overdue', dueByMs: T0 + 10 * MIN, lastSuccessMs, consecutiveFailures: 0, cause: 'no worker consuming the queue "reports"',
});
const failing = (n: number, lastSuccessMs: number | undefined = T0): EntryHealth => ({
  status: 'failing', dueByMs: T0 + 60 * MIN, lastSuccessMs, consecutiveFailures: n, cause: `the last ${n} runs were dead-lettered: Boom: no`,
});

function input(state: IncidentState, health: EntryHealth, nowMs: number, overrides: Partial<IncidentInput> = {}): IncidentInput {
  return {
    name: 'nightly', task: 'reports.send', queue: 'reports', alert: DEFAULT_ENTRY_ALERT, state, health, paused: null, missed: undefined,
    lastError: null, nowMs, flapWindowMs: 30 * MIN, missedWindowMs: 10 * MIN, ...overrides,
  };
}

/** Feeds a sequence of (minute, health) to the rules, carrying the state; returns every message's event, in order. */
function play(steps: readonly [number, EntryHealth][], overrides: Partial<IncidentInput> = {}): { events: string[]; state: IncidentState } {
  let state = QUIET;
  const events: string[] = [];
  for (const [minute, health] of steps) {
    const decision = decideIncident(input(state, health, T0 + minute * MIN, overrides));
    events.push(...decision.messages.map((m) => m.event));
    state = decision.next;
  }
  return { events, state };
}

test('overdue pages once with the cause, stays quiet while overdue, and recovers once on a newer success', () => {
  const first = decideIncident(input(QUIET, overdue(), T0 + 11 * MIN));
  assert.deepEqual(first.messages.map((m) => [m.event, m.status]), [['overdue', 'overdue']]);
  assert.match(first.messages[0]?.detail ?? '', /no success since 2030-06-01T02:00:00.000Z; one was due by 2030-06-01T02:10:00.000Z\. Likely cause: no worker consuming/);
  assert.equal(first.next.phase, 'incident');
  assert.equal(first.changed, true);
  const still = decideIncident(input(first.next, overdue(), T0 + 12 * MIN));
  assert.deepEqual([still.messages, still.changed], [[], false]);
  const healthyButNoSuccess = decideIncident(input(first.next, healthy(T0), T0 + 13 * MIN));
  assert.deepEqual(healthyButNoSuccess.messages, [], 'not overdue any more, but nothing succeeded: the incident waits');
  const recovered = decideIncident(input(first.next, healthy(T0 + 14 * MIN), T0 + 14 * MIN));
  assert.deepEqual(recovered.messages.map((m) => m.event), ['recovered']);
  assert.equal(recovered.next.phase, 'quiet');
  assert.equal(recovered.next.recoveredAt, new Date(T0 + 14 * MIN).toISOString());
});

test('failing after afterFailures opens the incident and its alert group; turning overdue is the same incident', () => {
  const alert: EntryAlert = { ...DEFAULT_ENTRY_ALERT, afterFailures: 3 };
  const opened = decideIncident(input(QUIET, failing(3), T0 + 3 * MIN, { alert, lastError: 'Boom: no' }));
  assert.deepEqual(opened.messages.map((m) => [m.event, m.consecutiveFailures, m.lastError]), [['failing', 3, 'Boom: no']]);
  assert.equal(opened.openGroup, true);
  const worse = decideIncident(input(opened.next, { ...overdue(), consecutiveFailures: 5 }, T0 + 20 * MIN, { alert }));
  assert.deepEqual(worse.messages, []);
});

test('pauseAfterFailures: due at that streak; the pause is told once, in the streak page when made with it, else alone', () => {
  const both = { ...DEFAULT_ENTRY_ALERT, afterFailures: 3, pauseAfterFailures: 3 };
  assert.equal(pauseDue(both, failing(2)), false);
  assert.equal(pauseDue(both, failing(3)), true);
  assert.equal(pauseDue(both, { ...failing(3), status: 'paused' }), false, 'already paused');
  const byAlerter = { at: new Date(T0).toISOString(), by: 'nightshift alerter', note: 'paused by the alerter after 3 runs' };
  const together = decideIncident(input(QUIET, failing(3), T0, { alert: both, paused: byAlerter }));
  assert.deepEqual(together.messages.map((m) => [m.event, m.pausedByAlerter]), [['failing', true]]);
  assert.match(together.messages[0]?.detail ?? '', /the alerter paused nightly/);
  assert.equal(together.next.pauseToldFor, byAlerter.at);
  const pausedHealth: EntryHealth = { ...failing(3), status: 'paused', dueByMs: undefined };
  assert.deepEqual(decideIncident(input(together.next, pausedHealth, T0 + MIN, { alert: both, paused: byAlerter })).messages, [], 'told once');
  // The page was written with the streak at 3; the pause came at 5: a message of its own.
  const later = { ...DEFAULT_ENTRY_ALERT, afterFailures: 3, pauseAfterFailures: 5 };
  const paged = decideIncident(input(QUIET, failing(3), T0, { alert: later }));
  assert.deepEqual(paged.messages.map((m) => [m.event, m.pausedByAlerter]), [['failing', false]]);
  const paused = decideIncident(input(paged.next, failing(5), T0 + 2 * MIN, { alert: later, paused: byAlerter }));
  assert.deepEqual(paused.messages.map((m) => [m.event, m.status]), [['paused', 'paused']]);
  // A round that paused but failed to write: the next round, which sees it paused, tells it.
  const retold = decideIncident(input(paged.next, pausedHealth, T0 + 3 * MIN, { alert: later, paused: byAlerter }));
  assert.deepEqual(retold.messages.map((m) => m.event), ['paused']);
});

test('flapping: fail, recover, fail, recover, … sends page, recovery, one flapping message, then one steady message', () => {
  const steps: [number, EntryHealth][] = [];
  // Every 4 minutes for an hour: bad for 2, then a success.
  for (let minute = 0; minute < 60; minute += 4) steps.push([minute, overdue(T0 + minute * MIN - 2 * MIN)], [minute + 2, healthy(T0 + (minute + 2) * MIN)]);
  const flapping = play(steps);
  assert.deepEqual(flapping.events, ['overdue', 'recovered', 'flapping']);
  assert.equal(flapping.state.phase, 'flapping');
  assert.ok(flapping.state.flapChanges > 20);
  // Then healthy for a whole window: one message, and the entry is quiet again.
  const steady = play([...steps, [92, healthy(T0 + 92 * MIN)], [93, healthy(T0 + 93 * MIN)]]);
  assert.deepEqual(steady.events, ['overdue', 'recovered', 'flapping', 'steady']);
  assert.equal(steady.state.phase, 'quiet');
  // Or bad for a whole window: the steady message is the incident's page, and a success ends it as usual.
  const stuck = play([...steps, [62, overdue(T0)], [92, overdue(T0)], [93, overdue(T0)], [95, healthy(T0 + 95 * MIN)]]);
  assert.deepEqual(stuck.events, ['overdue', 'recovered', 'flapping', 'steady', 'recovered']);
});

test('an incident long after the last recovery is a new incident, not flapping', () => {
  const { events } = play([[0, overdue()], [1, healthy(T0 + MIN)], [40, overdue(T0 + MIN)], [41, healthy(T0 + 41 * MIN)]]);
  assert.deepEqual(events, ['overdue', 'recovered', 'overdue', 'recovered']);
});

test('a paused entry\'s incident waits; an ended entry\'s closes without a message', () => {
  const opened = decideIncident(input(QUIET, overdue(), T0)).next;
  const paused = decideIncident(input(opened, { ...healthy(), status: 'paused' }, T0 + MIN));
  assert.deepEqual([paused.messages, paused.next.phase], [[], 'incident']);
  const ended = decideIncident(input(opened, { ...healthy(), status: 'ended', dueByMs: undefined }, T0 + MIN));
  assert.deepEqual([ended.messages, ended.next.phase], [[], 'quiet']);
});

const fires = (counts: NotSentFires['counts'], seq: string): NotSentFires => ({ counts, seq, from: new Date(T0).toISOString(), through: new Date(T0 + 5 * MIN).toISOString() });

test('runs not sent are told at most once per window, with the count and the reasons', () => {
  const first = decideIncident(input(QUIET, healthy(), T0, { missed: fires({ overlap: 2, misfire: 3 }, '10') }));
  assert.deepEqual(first.messages.map((m) => [m.event, m.missed?.count, m.missed?.reasons]), [['missed', 5, { overlap: 2, misfire: 3 }]]);
  assert.match(first.messages[0]?.detail ?? '', /overlap: its last run had not finished/);
  assert.equal(first.next.missedSeq, '10');
  const soon = decideIncident(input(first.next, healthy(), T0 + 2 * MIN, { missed: fires({ overlap: 1 }, '12') }));
  assert.deepEqual([soon.messages, soon.next.missedSeq], [[], '10'], 'held: the window is not over');
  const later = decideIncident(input(first.next, healthy(), T0 + 11 * MIN, { missed: fires({ overlap: 4 }, '20') }));
  assert.deepEqual(later.messages.map((m) => m.missed?.count), [4]);
  assert.equal(later.next.missedSeq, '20');
});

test('runs a person\'s pause did not send are told once per pause; a pause the alerter made is not told again', () => {
  const paused = { at: new Date(T0).toISOString(), by: 'ana', note: 'partner API down' };
  const pausedHealth: EntryHealth = { ...healthy(), status: 'paused', dueByMs: undefined };
  const first = decideIncident(input(QUIET, pausedHealth, T0 + MIN, { paused, missed: fires({ paused: 1 }, '3') }));
  assert.equal(first.messages.length, 1);
  assert.match(first.messages[0]?.detail ?? '', /paused by ana at .* \(partner API down\): its runs are not sent until it is resumed, and this is said once per pause/);
  const again = decideIncident(input(first.next, pausedHealth, T0 + 30 * MIN, { paused, missed: fires({ paused: 29 }, '40') }));
  assert.deepEqual([again.messages, again.next.missedSeq], [[], '40']);
  const told = { ...QUIET, pauseToldFor: paused.at }; // the alerter's pause, told by its page
  const byAlerter = decideIncident(input(told, pausedHealth, T0, { paused: { ...paused, by: 'nightshift alerter' }, missed: fires({ paused: 2 }, '5') }));
  assert.deepEqual([byAlerter.messages, byAlerter.next.missedSeq], [[], '5']);
});
