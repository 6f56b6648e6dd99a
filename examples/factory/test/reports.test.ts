import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PermanentError } from '@nightshift/core';
import { generateDailyReportTask, previousUtcDay } from '../src/reports.ts';
import { postgres } from '../src/resources.ts';
import { factoryDatabase, factoryTables } from '../src/schema.ts';
import type { FactorySettings } from '../src/settings.ts';
import { isolatedPerTest } from './isolation.ts';
import { taskContext } from './task-context.ts';

const settings = isolatedPerTest();

// A beat run fired at 00:05 UTC on 10 March reports 9 March.
const firedAt = { type: 'beat', beat: 'test', scheduledFor: '2025-03-10T00:05:00.000Z' } as const;

async function seed(s: FactorySettings, events: readonly (readonly [at: string, userId: string, kind: string, quantity: number])[]): Promise<void> {
  const { tables } = await factoryDatabase(s);
  for (const [at, userId, kind, quantity] of events) {
    await postgres().query(`INSERT INTO ${tables.usageEvents} (occurred_at, user_id, kind, quantity) VALUES ($1, $2, $3, $4)`, [at, userId, kind, quantity]);
  }
}

const EVENTS = [
  ['2025-03-08T23:59:59.999Z', 'ada', 'api_call', 100], // the day before: left out
  ['2025-03-09T00:00:00.000Z', 'ada', 'api_call', 3], // the first instant: counted
  ['2025-03-09T08:30:00.000Z', 'ada', 'api_call', 2],
  ['2025-03-09T09:00:00.000Z', 'bob', 'api_call', 1],
  ['2025-03-09T12:00:00.000Z', 'bob', 'export', 7],
  ['2025-03-09T23:59:59.999Z', 'cy', 'login', 1], // the last instant: counted
  ['2025-03-10T00:00:00.000Z', 'cy', 'export', 100], // the report's own day: left out
] as const;

test('previousUtcDay: the day before the scheduled fire time for beat runs, before now otherwise', () => {
  const beat = previousUtcDay({ origin: firedAt });
  assert.equal(beat.day, '2025-03-09');
  assert.equal(beat.start.toISOString(), '2025-03-09T00:00:00.000Z');
  assert.equal(beat.end.toISOString(), '2025-03-10T00:00:00.000Z');
  const producer = previousUtcDay({ origin: { type: 'producer', producer: 'test' } }, new Date('2025-01-01T00:00:00.000Z'));
  assert.equal(producer.day, '2024-12-31');
});

test('usage report: aggregates the previous UTC day per event kind, and a second run leaves one identical row', async () => {
  const s = settings();
  await seed(s, EVENTS);
  const task = generateDailyReportTask(s);

  const first = await task.run(taskContext(task.name, { origin: firedAt }).ctx, 'usage');
  assert.equal(first.type, 'usage');
  assert.equal(first.day, '2025-03-09');
  assert.equal(first.eventCount, 5);
  assert.deepEqual(first.summary, {
    byKind: { api_call: { events: 3, quantity: 6 }, export: { events: 1, quantity: 7 }, login: { events: 1, quantity: 1 } },
  });

  const second = await task.run(taskContext(task.name, { origin: firedAt }).ctx, 'usage');
  assert.deepEqual({ ...second, generatedAt: undefined }, { ...first, generatedAt: undefined });
  const { rows } = await postgres().query(`SELECT report_type, day::text, event_count::int, summary FROM ${factoryTables(s.schema).dailyReports}`);
  assert.deepEqual(rows, [{ report_type: 'usage', day: '2025-03-09', event_count: 5, summary: first.summary }]);
});

test('a rerun after late events replaces the stored row', async () => {
  const s = settings();
  await seed(s, EVENTS);
  const task = generateDailyReportTask(s);
  await task.run(taskContext(task.name, { origin: firedAt }).ctx, 'usage');
  await seed(s, [['2025-03-09T13:00:00.000Z', 'dee', 'login', 1]]);
  const rerun = await task.run(taskContext(task.name, { origin: firedAt }).ctx, 'usage');
  assert.equal(rerun.eventCount, 6);
  const { rows } = await postgres().query(`SELECT event_count::int FROM ${factoryTables(s.schema).dailyReports}`);
  assert.deepEqual(rows, [{ event_count: 6 }]);
});

test('users report: active users and the busiest first', async () => {
  const s = settings();
  await seed(s, EVENTS);
  const task = generateDailyReportTask(s);
  const report = await task.run(taskContext(task.name, { origin: firedAt }).ctx, 'users');
  assert.equal(report.eventCount, 5);
  assert.deepEqual(report.summary, {
    activeUsers: 3,
    topUsers: [{ userId: 'ada', events: 2 }, { userId: 'bob', events: 2 }, { userId: 'cy', events: 1 }],
  });
  const { rows } = await postgres().query(`SELECT report_type FROM ${factoryTables(s.schema).dailyReports}`);
  assert.deepEqual(rows, [{ report_type: 'users' }], 'each type has its own row');
});

test('a run from a producer reports yesterday (UTC)', async () => {
  const s = settings();
  const yesterdayNoon = new Date(Date.now() - 86_400_000);
  yesterdayNoon.setUTCHours(12, 0, 0, 0);
  await seed(s, [[yesterdayNoon.toISOString(), 'ada', 'login', 1]]);
  const task = generateDailyReportTask(s);
  const report = await task.run(taskContext(task.name).ctx, 'usage');
  assert.equal(report.day, yesterdayNoon.toISOString().slice(0, 10));
  assert.equal(report.eventCount, 1);
});

test('an unknown report type is a PermanentError, and nothing is written', async () => {
  const s = settings();
  const task = generateDailyReportTask(s);
  await assert.rejects(async () => task.run(taskContext(task.name).ctx, 'revenue'), (error: unknown) => {
    assert.ok(error instanceof PermanentError);
    assert.match(error.message, /unknown report type "revenue"; expected one of usage, users/);
    return true;
  });
  const { rows } = await postgres().query('SELECT 1 FROM information_schema.schemata WHERE schema_name = $1', [s.schema]);
  assert.equal(rows.length, 0, 'the task gave up before touching the database');
});
