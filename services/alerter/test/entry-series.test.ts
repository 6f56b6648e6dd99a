// The schedule watch's per-entry series with many runtime entries: beyond NIGHTSHIFT_ALERTER_ENTRY_LABELS they are
// counted together as entry="(runtime)", read from the Prometheus scrape as on-call reads it: no OpenTelemetry
// overflow series, an earliest due-by that makes NightshiftScheduleOverdue fire, the page still naming the entry; and
// a series whose entry is no longer due shows no due-by that would page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadApp, type Logger } from '@nightshift/core';
import { loadAlerterConfig } from '@nightshift/alerter';
import type { EntryHealth } from '@nightshift/schedule';
import { ScheduleHealthRecords, ScheduleRecords } from '@nightshift/store';
import { createLogger, metrics, startTelemetry, type Telemetry } from '@nightshift/telemetry';
import { slackWebhook } from '@nightshift/test-helpers';
import { ScheduleSeries, type JudgedEntry } from '../src/schedule-series.ts';
import { alerterHarness, eventually, LogLines } from './support.ts';

let telemetry: Telemetry;
before(async () => { telemetry = await startTelemetry({ service: 'alerter-entry-series-test', metricsPort: 0, logLevel: 'silent' }); });
after(async () => { await telemetry.shutdown(); });

/**
 * The value of the one sample of `name` with exactly these labels, from the meter named `scope` (each test has its
 * own: the instruments of an earlier test's alerter are still observed), or undefined.
 */
function sample(body: string, scope: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = body.split('\n').find((l) => {
    if (!l.startsWith(`${name}{`)) return false;
    const pairs = l.slice(name.length + 1, l.lastIndexOf('}')).split(',');
    const own = pairs.filter((pair) => !pair.startsWith('otel_scope_'));
    return pairs.includes(`otel_scope_name="${scope}"`) && own.length === wanted.length && wanted.every((pair) => own.includes(pair));
  });
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const scrape = async () => (await fetch(telemetry.metricsUrl)).text();
const sayingSo = (logs: LogLines) => logs.lines.filter((l) => /NIGHTSHIFT_ALERTER_ENTRY_LABELS/.test(l));
const capturing = (): { logger: Logger; logs: LogLines } => {
  const logs = new LogLines();
  return { logs, logger: createLogger({ service: 'alerter-entry-series-test', level: 'info', destination: logs }) };
};
const health = (overrides: Partial<EntryHealth>): EntryHealth => ({ status: 'healthy', dueByMs: undefined, lastSuccessMs: undefined, consecutiveFailures: 0, cause: undefined, ...overrides });

test('2,500 runtime entries, one overdue: counted together as (runtime) with the earliest due-by, the latest success and the longest streak; no overflow series; the code entry keeps its own; said once', async () => {
  const { logger, logs } = capturing();
  const series = new ScheduleSeries(metrics.getMeter('many-runtime'), { entryLabels: 500, logger });
  const now = Date.now();
  const judged: JudgedEntry[] = Array.from({ length: 2_500 }, (_, i) => ({
    name: `customer-${i}-report`, source: 'runtime', health: health({ dueByMs: now + 3_600_000 + i, lastSuccessMs: now - 60_000 - i, consecutiveFailures: i % 3 }),
  }));
  judged[1_234] = { name: 'customer-1234-report', source: 'runtime', health: health({ status: 'overdue', dueByMs: now - 120_000, lastSuccessMs: now - 86_400_000, consecutiveFailures: 7 }) };
  judged.push({ name: 'tick', source: 'code', health: health({ dueByMs: now + 5_000, lastSuccessMs: now - 1_000 }) });
  series.judged(judged, 4);
  await scrape();
  series.judged(judged, 4); // a second round: nothing new
  const body = await scrape();

  assert.deepEqual(body.split('\n').filter((l) => l.includes('otel_metric_overflow')), [], 'no overflow series');
  assert.deepEqual(body.split('\n').filter((l) => l.includes('entry="customer-')), [], 'no series of a runtime entry of its own');
  assert.equal(sample(body, 'many-runtime', 'nightshift_schedule_due_by_timestamp_seconds', { entry: '(runtime)' }), (now - 120_000) / 1000, 'the overdue one\'s due-by: the alert fires');
  assert.equal(sample(body, 'many-runtime', 'nightshift_schedule_last_success_timestamp_seconds', { entry: '(runtime)' }), (now - 60_000) / 1000, 'the latest success of any');
  assert.equal(sample(body, 'many-runtime', 'nightshift_schedule_consecutive_failures', { entry: '(runtime)' }), 7, 'the longest streak');
  assert.equal(sample(body, 'many-runtime', 'nightshift_schedules_overdue', {}), 1);
  assert.equal(sample(body, 'many-runtime', 'nightshift_schedules_dead_lettered', {}), judged.filter((j) => j.health.consecutiveFailures > 0).length);
  assert.equal(sample(body, 'many-runtime', 'nightshift_schedules_paused', {}), 4);
  assert.equal(sample(body, 'many-runtime', 'nightshift_schedule_due_by_timestamp_seconds', { entry: 'tick' }), (now + 5_000) / 1000, 'the code entry by name');
  const said = sayingSo(logs);
  assert.equal(said.length, 1, 'said once');
  assert.match(said[0] ?? '', /watched 2500 runtime schedule entries, more than NIGHTSHIFT_ALERTER_ENTRY_LABELS \(500\).*entry=\\"\(runtime\)\\".*more than can have a series each/);
});

test('an alerter with more runtime entries than NIGHTSHIFT_ALERTER_ENTRY_LABELS, one overdue: no runtime entry by name, (runtime) past its due-by, and the page names the entry', async () => {
  const slack = await slackWebhook();
  const harness = await alerterHarness({ NIGHTSHIFT_SLACK_WEBHOOK_URL: slack.url, NIGHTSHIFT_ALERTER_ENTRY_LABELS: '2', NIGHTSHIFT_SCHEDULE_WATCH_INTERVAL: '1h' });
  try {
    const app = await loadApp(fileURLToPath(new URL('./fixtures/app.ts', import.meta.url)));
    const alerter = await harness.start({ app, meter: metrics.getMeter('past-the-bound') });
    const records = new ScheduleRecords(harness.store);
    // Every minute: overdue two hours from now, with no runs. Once a year: due long after that.
    await records.insert('acme-minutely', { name: 'acme-minutely', task: 'reports.daily', schedule: { every: '1m' } }, null, 'ana');
    for (const name of ['globex-yearly', 'initech-yearly']) await records.insert(name, { name, task: 'reports.daily', schedule: '0 0 1 1 *' }, null, 'ana');
    const judgedAt = Date.now() + 2 * 3_600_000;
    await alerter.scheduleWatch.round(judgedAt);

    const page = await eventually('the overdue page', () => slack.messages.find((m) => m.text.startsWith('schedule acme-minutely is overdue')), 15_000);
    assert.ok(page, 'the alerter\'s own page names the entry');
    const judgements = await new ScheduleHealthRecords(harness.store).judgements();
    const judgement = judgements.get('acme-minutely');
    assert.equal(judgement?.status, 'overdue');
    // The code entry runs daily at 06:00 UTC, so two hours on it is overdue too when the test runs between about 04:00
    // and 06:00: the count is of every overdue entry, the runtime ones among them exactly the one.
    const overdue = [...judgements.values()].filter((j) => j.status === 'overdue');
    assert.deepEqual(overdue.filter((j) => j.source === 'runtime').map((j) => j.entry), ['acme-minutely']);
    const body = await scrape();
    assert.deepEqual(body.split('\n').filter((l) => /entry="(acme|globex|initech)-/.test(l)), [], 'no runtime entry by name');
    const dueBy = sample(body, 'past-the-bound', 'nightshift_schedule_due_by_timestamp_seconds', { entry: '(runtime)' });
    assert.equal(dueBy, Date.parse(judgement?.dueBy ?? '') / 1000, 'the earliest due-by is the overdue entry\'s');
    assert.ok(dueBy !== undefined && dueBy < judgedAt / 1000, 'past it: time() - due_by > 0 fires NightshiftScheduleOverdue for entry="(runtime)"');
    assert.equal(sample(body, 'past-the-bound', 'nightshift_schedules_overdue', {}), overdue.length);
    assert.ok(sample(body, 'past-the-bound', 'nightshift_schedule_due_by_timestamp_seconds', { entry: 'daily-report' }) !== undefined, 'the code entry by name');
    const said = sayingSo(harness.logs);
    assert.equal(said.length, 1, `said once: ${said.join('')}`);
    assert.match(said[0] ?? '', /watched 3 runtime schedule entries, more than NIGHTSHIFT_ALERTER_ENTRY_LABELS \(2\)/);
  } finally {
    await harness.cleanup();
    await slack.close();
  }
});

test('a runtime entry paused or removed after it had a series: its due-by becomes NaN, never a past time that would page', async () => {
  const harness = await alerterHarness({ NIGHTSHIFT_SCHEDULE_WATCH_INTERVAL: '1h' });
  try {
    const alerter = await harness.start({ meter: metrics.getMeter('no-longer-due') });
    const records = new ScheduleRecords(harness.store);
    for (const name of ['pause-me-hourly', 'remove-me-hourly']) await records.insert(name, { name, task: 'reports.daily', schedule: '0 * * * *' }, null, 'ana');
    await alerter.scheduleWatch.round();
    let body = await scrape();
    for (const entry of ['pause-me-hourly', 'remove-me-hourly']) {
      assert.ok(Number.isFinite(sample(body, 'no-longer-due', 'nightshift_schedule_due_by_timestamp_seconds', { entry })), `${entry} due by a time`);
    }
    await records.setPaused('pause-me-hourly', true, 'holiday', 'ana');
    await records.delete('remove-me-hourly', undefined, 'ana');
    await alerter.scheduleWatch.round();
    body = await scrape();
    for (const entry of ['pause-me-hourly', 'remove-me-hourly']) {
      assert.ok(Number.isNaN(sample(body, 'no-longer-due', 'nightshift_schedule_due_by_timestamp_seconds', { entry })), `${entry}: no due-by any more`);
    }
  } finally {
    await harness.cleanup();
  }
});

test('NIGHTSHIFT_ALERTER_ENTRY_LABELS: 500 unless set, from 0 to 1,500; more is refused by name', () => {
  assert.equal(loadAlerterConfig({}).entryLabels, 500);
  assert.equal(loadAlerterConfig({ NIGHTSHIFT_ALERTER_ENTRY_LABELS: '0' }).entryLabels, 0);
  assert.equal(loadAlerterConfig({ NIGHTSHIFT_ALERTER_ENTRY_LABELS: '1500' }).entryLabels, 1_500);
  assert.throws(() => loadAlerterConfig({ NIGHTSHIFT_ALERTER_ENTRY_LABELS: '100000' }), (error: unknown) => error instanceof ConfigError && /NIGHTSHIFT_ALERTER_ENTRY_LABELS/.test(error.message));
});
