// Beat's per-entry series with many runtime entries: beyond NIGHTSHIFT_BEAT_ENTRY_LABELS they are counted together as
// entry="(runtime)", read from the Prometheus scrape as on-call reads it: right counts, no OpenTelemetry overflow
// series, and one line in the log that says so.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, defineApp, defineTask, type NightshiftConfig } from '@nightshift/core';
import { compileBeatOptions, loadBeatConfig, startBeatService } from '@nightshift/beat';
import { BeatMetrics } from '../src/metrics.ts';
import { beatTestFile, capturingLogger, cleanupPrefix, eventually, QueueTap, sleep, testConfig } from './support.ts';
import { declareQueues, runtimeStore } from './runtime-support.ts';

const file = beatTestFile('beat-entry-series-test');
const { cleanups } = file;

/** The value of the one sample of `name` with exactly these labels (besides the scope's), or undefined. */
function sample(body: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([key, value]) => `${key}="${value}"`);
  const line = body.split('\n').find((l) => {
    if (!l.startsWith(`${name}{`)) return false;
    const own = l.slice(name.length + 1, l.lastIndexOf('}')).split(',').filter((pair) => !pair.startsWith('otel_scope_'));
    return own.length === wanted.length && wanted.every((pair) => own.includes(pair));
  });
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const scrape = async () => (await fetch(file.telemetry.metricsUrl)).text();
const sayingSo = (lines: Record<string, unknown>[]) => lines.filter((l) => /NIGHTSHIFT_BEAT_ENTRY_LABELS/.test(String(l.msg)));

test('2,500 runtime entries dispatched between two scrapes: counted together as (runtime), exactly, with no overflow series; the code entry keeps its own', async () => {
  const { log, lines } = capturingLogger();
  const metrics = new BeatMetrics(file.telemetry.meter, { replica: 'series', codeEntries: ['tick'], entryLabels: 500, log });
  cleanups.push(async () => metrics.leader(false));
  metrics.leader(true);
  const now = Date.now();
  const names = Array.from({ length: 2_500 }, (_, i) => `customer-${i}-report`);
  // As the leader starts its entries, then as they come due: OpenTelemetry keeps 2,000 series of a metric between scrapes.
  metrics.nextFire('tick', now + 1_000);
  names.forEach((name, i) => metrics.nextFire(name, now + 5_000 + i));
  await scrape();
  for (const name of names) metrics.dispatched(name, 'bulk.report', 20);
  metrics.dispatched('tick', 'clock.tick', 3);
  metrics.missed('customer-7-report', 'paused', 3);
  const body = await scrape();

  assert.deepEqual(body.split('\n').filter((l) => l.includes('otel_metric_overflow')), [], 'no overflow series');
  assert.equal(sample(body, 'nightshift_beat_runs_dispatched_total', { entry: '(runtime)', task: 'bulk.report' }), 2_500, 'every runtime run counted, by task');
  assert.equal(sample(body, 'nightshift_beat_dispatch_lag_count', { entry: '(runtime)' }), 2_500);
  assert.equal(sample(body, 'nightshift_beat_dispatch_lag_bucket', { entry: '(runtime)', le: '0.025' }), 2_500, 'their lag (20 ms) in its bucket');
  assert.equal(sample(body, 'nightshift_beat_runs_missed_total', { entry: '(runtime)', reason: 'paused' }), 3);
  assert.equal(sample(body, 'nightshift_beat_runs_dispatched_total', { entry: 'tick', task: 'clock.tick' }), 1, 'the code entry has its own series');
  assert.equal(sample(body, 'nightshift_beat_next_fire_time', { entry: 'tick' }), (now + 1_000) / 1000);
  assert.equal(sample(body, 'nightshift_beat_next_fire_time', { entry: '(runtime)' }), (now + 5_000) / 1000, 'the soonest of the runtime entries');
  assert.deepEqual(body.split('\n').filter((l) => l.includes('entry="customer-')), [], 'no series of a runtime entry of its own');
  const said = sayingSo(lines());
  assert.equal(said.length, 1, 'said once');
  assert.match(String(said[0]?.msg), /501 runtime schedule entries, more than NIGHTSHIFT_BEAT_ENTRY_LABELS \(500\).*entry="\(runtime\)".*set NIGHTSHIFT_BEAT_ENTRY_LABELS to 501 or more/);
});

test('beat with more runtime entries than NIGHTSHIFT_BEAT_ENTRY_LABELS: their runs in entry="(runtime)" as many as were sent, the code entry by name, said once', async () => {
  const config: NightshiftConfig = await testConfig('beat-series');
  const db = await runtimeStore();
  cleanups.push(db.cleanup, () => cleanupPrefix(config, ['ticks', 'series']));
  await declareQueues(config, ['ticks', 'series']);
  const tap = await QueueTap.open(config, 'series');
  cleanups.push(() => tap.close());
  const app = defineApp({
    name: 'beat-series',
    tasks: [defineTask({ name: 'clock.tick', queue: 'ticks', run: () => undefined }), defineTask({ name: 'series.report', queue: 'series', run: () => undefined })],
    schedule: [{ name: 'tick', task: 'clock.tick', schedule: { every: '1s' } }],
  });
  const runtime = ['acme-report', 'globex-report', 'initech-report'];
  for (const name of runtime) await db.records.insert(name, { name, task: 'series.report', schedule: { every: '1s' } }, null, 'ana');
  const { log, lines } = capturingLogger();
  const service = await startBeatService({ app, config, log, meter: file.telemetry.meter, replica: 'series', entryLabels: 2, store: { url: db.url, schema: db.store.schema } });
  cleanups.push(() => service.stop());
  await eventually('three runs of each runtime entry', () => runtime.every((name) => tap.received.filter((r) => r.envelope.origin.type === 'beat' && r.envelope.origin.beat === name).length >= 3), 10_000);
  await service.stop();
  await sleep(300); // the last runs arrive

  const body = await scrape();
  assert.equal(sample(body, 'nightshift_beat_runs_dispatched_total', { entry: '(runtime)', task: 'series.report' }), tap.received.length, 'every run sent is counted');
  assert.ok((sample(body, 'nightshift_beat_runs_dispatched_total', { entry: 'tick', task: 'clock.tick' }) ?? 0) >= 3, 'the code entry by name');
  assert.deepEqual(body.split('\n').filter((l) => runtime.some((name) => l.includes(`entry="${name}"`))), [], 'no runtime entry by name');
  const said = sayingSo(lines());
  assert.equal(said.length, 1, `said once: ${JSON.stringify(said)}`);
  assert.match(String(said[0]?.msg), /beat has 3 runtime schedule entries, more than NIGHTSHIFT_BEAT_ENTRY_LABELS \(2\)/);
});

test('NIGHTSHIFT_BEAT_ENTRY_LABELS: 500 unless set, from 0 to 1,500; more is refused by name, as is the option', () => {
  assert.equal(loadBeatConfig({}).entryLabels, 500);
  assert.equal(loadBeatConfig({ NIGHTSHIFT_BEAT_ENTRY_LABELS: '0' }).entryLabels, 0);
  assert.equal(loadBeatConfig({ NIGHTSHIFT_BEAT_ENTRY_LABELS: '1500' }).entryLabels, 1_500);
  assert.throws(() => loadBeatConfig({ NIGHTSHIFT_BEAT_ENTRY_LABELS: '100000' }), (error: unknown) => error instanceof ConfigError && /NIGHTSHIFT_BEAT_ENTRY_LABELS/.test(error.message));
  assert.throws(() => compileBeatOptions({ entryLabels: 1_501 }), (error: unknown) => error instanceof ConfigError && /entryLabels/.test(error.message));
  assert.equal(compileBeatOptions({}).entryLabels, 500);
});
