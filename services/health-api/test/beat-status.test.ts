import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defineApp, defineTask } from '@nightshift/core';
import { BeatStatus } from '../src/live/beat-status.ts';

const cleanup = defineTask({ name: 'tokens.cleanupExpired', queue: 'maintenance', run: () => 0 });
const report = defineTask({ name: 'reports.generateDaily', run: () => 'done' });

test('a schedule entry shows the queue beat sends its runs to: its own, else its task\'s, else the app default', () => {
  const app = defineApp({
    name: 'beat-status-test', tasks: [cleanup, report], defaults: { queue: 'batch' },
    schedule: [
      { name: 'tokens-cleanup', task: 'tokens.cleanupExpired', schedule: { every: '15m' } },
      { name: 'urgent-cleanup', task: 'tokens.cleanupExpired', schedule: { every: '1h' }, options: { queue: 'urgent' } },
      { name: 'daily-report', task: 'reports.generateDaily', schedule: '5 0 * * *' },
    ],
  });
  const status = new BeatStatus(app, 60_000, undefined, Date.parse('2025-03-01T00:00:00Z'));
  const queues = status.view(Date.parse('2025-03-01T00:00:01Z')).entries.map((e) => [e.name, e.queue]);
  assert.deepEqual(queues, [['tokens-cleanup', 'maintenance'], ['urgent-cleanup', 'urgent'], ['daily-report', 'batch']]);
});

test('without an app default, a task with no queue of its own goes to `default`', () => {
  const app = defineApp({ name: 'beat-status-test', tasks: [report], schedule: [{ name: 'daily-report', task: 'reports.generateDaily', schedule: '5 0 * * *' }] });
  assert.equal(new BeatStatus(app, 60_000).view().entries[0]?.queue, 'default');
});

test('a run now or a backfill does not stand for the schedule\'s run; fire times beat reports missed (paused, overlap) are not overdue', () => {
  const app = defineApp({ name: 'beat-status-test', tasks: [report], schedule: [{ name: 'daily-report', task: 'reports.generateDaily', schedule: '5 0 * * *' }] });
  const start = Date.parse('2025-03-01T00:00:00Z');
  const due = Date.parse('2025-03-01T00:05:00Z');
  const later = Date.parse('2025-03-01T00:10:00Z');
  const manual = new BeatStatus(app, 60_000, undefined, start);
  manual.observe({ type: 'beat.dispatched', at: new Date(later).toISOString(), entry: 'daily-report', scheduledFor: new Date(later - 1_000).toISOString(), origin: 'manual', by: 'ana' }, later);
  assert.deepEqual(manual.view(later).overdue, ['daily-report'], 'the 00:05 run is still missing');
  assert.equal(manual.view(later).lastDispatchAt, null);

  const paused = new BeatStatus(app, 60_000, undefined, start);
  paused.observe({ type: 'beat.missed', at: new Date(due).toISOString(), entry: 'daily-report', scheduledFor: new Date(due).toISOString(), count: 1, reason: 'paused' }, due);
  assert.deepEqual(paused.view(later).overdue, []);
  assert.equal(paused.view(later).entries[0]?.lastScheduledFor, null, 'nothing was dispatched');

  const silent = new BeatStatus(app, 60_000, undefined, start);
  assert.deepEqual(silent.view(later).overdue, ['daily-report'], 'without a word from beat the run is overdue');
});
