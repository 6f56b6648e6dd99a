// How fast the health-api's history recorder ingests lifecycle events, next to how fast a worker produces
// them in the same run (the recorder must keep up: ratio ≥ 1), and the p99 latency of the task list and
// detail endpoints with 1,000,000 runs in the table.
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadConfig, signals } from '@nightshift/core';
import { Broker, brokerOptions, createClient } from '@nightshift/broker';
import { HistoryRecorder, loadHealthApiConfig, startHealthApi } from '@nightshift/health-api';
import { quoteIdent } from '@nightshift/store';
import { createLogger, metrics } from '@nightshift/telemetry';
import { randomPrefix, requireServices } from '@nightshift/test-helpers';
import { startWorker } from '@nightshift/worker';
import { noop } from './fixtures/noop-app.ts';

const TASKS = Number(process.env.BENCH_TASKS ?? 4_000);
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const REQUESTS = 200;
const EVENTS_PER_TASK = 4; // sent, received, started, succeeded
const logger = createLogger({ service: 'bench', level: 'silent' });
const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] as number;

const { amqpUrl, databaseUrl } = await requireServices('rabbitmq', 'postgres');
const prefix = randomPrefix('history');
const schema = prefix.replaceAll('-', '_');
const env = {
  NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_DATABASE_URL: databaseUrl, NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: schema,
  NIGHTSHIFT_API_TOKEN: 'bench-token-0123456789', NIGHTSHIFT_HTTP_PORT: '0', NIGHTSHIFT_LOG_LEVEL: 'error',
};
const config = loadHealthApiConfig(env);
const api = await startHealthApi({ config, logger, meter: metrics.getMeter('bench'), listen: false });
// Stop the live recorder: the worker's events pile up in the history queue, to be drained at full speed below.
await api.room.recorder.stop();

// 1. What a worker produces: no-op tasks at concurrency 2, thread sandboxes, events on.
const appPath = fileURLToPath(new URL('./fixtures/noop-app.ts', import.meta.url));
const worker = await startWorker({ appPath, concurrency: 2, pool: 'threads' }, env, quiet, metrics.getMeter('bench'));
const client = await createClient(loadConfig(env), { name: 'bench' });
let succeeded = 0;
const done = new Promise<void>((resolve) => signals.on('taskSuccess', () => { if (++succeeded === TASKS) resolve(); }));
const workStart = performance.now();
for (let sent = 0; sent < TASKS; sent += 200) await Promise.all(Array.from({ length: Math.min(200, TASKS - sent) }, () => client.send(noop, [])));
await done;
const workerTasksPerSecond = TASKS / ((performance.now() - workStart) / 1000);
const producedPerSecond = workerTasksPerSecond * EVENTS_PER_TASK;
await worker.stop();
await client.close();
await sleep(500); // the last grouped events

// 2. The recorder draining everything they sent.
const recorder = new HistoryRecorder({ broker: api.room.broker, taskRuns: api.room.taskRuns, scheduleRecords: api.room.scheduleRecords, logger, redaction: api.room.redaction, queueLength: config.historyQueueLength });
const drainStart = performance.now();
await recorder.start();
const expected = TASKS * EVENTS_PER_TASK;
let last = -1;
let stableSince = performance.now();
while (recorder.recorded < expected) {
  if (recorder.recorded !== last) {
    last = recorder.recorded;
    stableSince = performance.now();
  } else if (performance.now() - stableSince > 5_000) break;
  await sleep(5);
}
const recordedPerSecond = recorder.recorded / ((performance.now() - drainStart) / 1000);
await recorder.stop();

// 3. A million runs, then the list and detail endpoints.
const db = new pg.Client({ connectionString: databaseUrl });
await db.connect();
const fillStart = performance.now();
await db.query(`
  INSERT INTO ${quoteIdent(schema)}.task_runs (id, name, queue, state, state_rank, attempt, max_attempts, worker, args, sent_at, started_at, finished_at, runtime_ms)
  SELECT 'run-' || g, 'task.' || (g % 20), 'q' || (g % 4), (ARRAY['succeeded','failed','dead-lettered','retried'])[1 + (g / 7) % 4], 5, 1, 4, 'worker@bench',
         '[1, "two"]'::jsonb, now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval, now() - (g || ' seconds')::interval, 3
  FROM generate_series(1, ${ROWS}) AS g
  ON CONFLICT DO NOTHING`);
await db.query(`ANALYZE ${quoteIdent(schema)}.task_runs`);
const fillSeconds = (performance.now() - fillStart) / 1000;
const headers = { authorization: 'Bearer bench-token-0123456789' };
async function latency(url: () => string): Promise<{ p50: number; p99: number }> {
  const times: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const started = performance.now();
    const response = await api.server.inject({ method: 'GET', url: url(), headers });
    if (response.statusCode !== 200) throw new Error(`${url()}: HTTP ${response.statusCode} ${response.body.slice(0, 200)}`);
    times.push(performance.now() - started);
  }
  return { p50: percentile(times, 0.5), p99: percentile(times, 0.99) };
}
const firstPage = (await api.server.inject({ method: 'GET', url: '/api/tasks?limit=50', headers })).json() as { next?: string };
const list = await latency(() => '/api/tasks?limit=50');
const filtered = await latency(() => '/api/tasks?limit=50&state=dead-lettered&name=task.7');
const none = await latency(() => '/api/tasks?limit=50&state=revoked&name=task.7'); // no run matches: the whole name is scanned
const deeper = await latency(() => `/api/tasks?limit=50&after=${firstPage.next ?? ''}`);
const detail = await latency(() => `/api/tasks/run-${1 + Math.floor(Math.random() * ROWS)}`);

await db.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
await db.end();
await api.stop();
const cleaner = await Broker.connect(brokerOptions(loadConfig(env), 'bench-cleanup'));
await cleaner.ensureQueue('default');
await cleaner.withChannel((channel) => channel.deleteQueue(`${prefix}.health-api.history`));
await cleaner.deleteTopology();
await cleaner.close();

const ms = (v: number) => `${v.toFixed(1)} ms`;
console.log(`worker (threads, c=2)       ${workerTasksPerSecond.toFixed(0)} tasks/s → ${producedPerSecond.toFixed(0)} events/s (${TASKS} tasks)`);
console.log(`recorder (drain)            ${recordedPerSecond.toFixed(0)} events/s (${recorder.recorded} of ${expected} events)`);
console.log(`ratio                       ${(recordedPerSecond / producedPerSecond).toFixed(2)}   (goal ≥ 1: the recorder keeps up)`);
console.log(`task_runs                   ${ROWS} rows (filled in ${fillSeconds.toFixed(1)} s)`);
console.log(`GET /api/tasks?limit=50     p50 ${ms(list.p50)}  p99 ${ms(list.p99)}`);
console.log(`  …&state=…&name=…          p50 ${ms(filtered.p50)}  p99 ${ms(filtered.p99)}`);
console.log(`  …&state=revoked (none)     p50 ${ms(none.p50)}  p99 ${ms(none.p99)}`);
console.log(`  …&after=<page 2>          p50 ${ms(deeper.p50)}  p99 ${ms(deeper.p99)}`);
console.log(`GET /api/tasks/:id          p50 ${ms(detail.p50)}  p99 ${ms(detail.p99)}   (${REQUESTS} requests each, in-process)`);
process.exit(0);
