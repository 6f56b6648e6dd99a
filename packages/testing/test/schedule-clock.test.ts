import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ScheduleClock } from '@nightshift/testing';
import app from './fixtures/app.ts';

const start = '2026-03-28T22:59:55Z'; // 23:59:55 in Berlin, the night before the spring-forward gap

test('advance: every run due while beat runs, sent at its own time', () => {
  const clock = new ScheduleClock(app, start);
  const runs = clock.advance('1m');
  const ticks = runs.filter((r) => r.entry === 'tick');
  assert.equal(ticks.length, 6);
  assert.ok(ticks.every((r) => r.sentAt === r.scheduledFor));
  assert.deepEqual(runs.filter((r) => r.entry === 'hourly').map((r) => r.scheduledFor), ['2026-03-28T23:00:00.000Z']);
  assert.deepEqual(ticks[0]?.args, [1, 1]);
});

test('downtime: each entry\'s misfire policy decides what is sent on restart', () => {
  const clock = new ScheduleClock(app, start);
  clock.advance('7s');
  const runs = clock.downtime('4d'); // back at 23:00:02 UTC, four days later
  const byEntry = (name: string) => runs.filter((r) => r.entry === name);
  assert.deepEqual(byEntry('tick'), [], 'skip: the missed ticks are out of their 1 s grace');
  assert.equal(byEntry('hourly').length, 1, 'once: one catch-up run for the 96 missed hours');
  assert.equal(byEntry('nightly').length, 3, 'all: each missed night, up to the cap of 3');
  assert.ok(runs.every((r) => r.sentAt === clock.now.toISOString()));
  // The newest three nights; 02:30 Berlin summer time is 00:30 UTC (the night of the gap, which fired at 03:00, is older).
  assert.deepEqual(byEntry('nightly').map((r) => r.scheduledFor), ['2026-03-30T00:30:00.000Z', '2026-03-31T00:30:00.000Z', '2026-04-01T00:30:00.000Z']);
});

test('the next advance continues from where the catch-up left off, without repeats', () => {
  const clock = new ScheduleClock(app, start);
  const catchUp = clock.downtime('2h').filter((r) => r.entry === 'hourly');
  assert.deepEqual(catchUp.map((r) => r.scheduledFor), ['2026-03-29T00:00:00.000Z'], 'the newest of the two missed hours');
  const next = clock.advance('1h').filter((r) => r.entry === 'hourly');
  assert.deepEqual(next.map((r) => r.scheduledFor), ['2026-03-29T01:00:00.000Z']);
});
