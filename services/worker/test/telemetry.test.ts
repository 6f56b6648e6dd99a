import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { signals } from '@nightshift/core';
import { InMemorySpanExporter, startTelemetry, type Telemetry } from '@nightshift/telemetry';
import { echo, flaky, spin } from './fixtures/app.ts';
import { harness, type Harness } from './support.ts';

let h: Harness;
let telemetry: Telemetry;
const spans = new InMemorySpanExporter();
const seen: string[] = [];
const onSignal = (name: string) => () => { seen.push(name); };
before(async () => {
  telemetry = await startTelemetry({ service: 'worker-test', metricsPort: 0, spanExporter: spans, logLevel: 'silent' });
  for (const name of ['taskSuccess', 'taskFailure', 'taskRetry', 'workerReady'] as const) signals.on(name, onSignal(name));
  h = await harness();
  await h.worker({ concurrency: 2 });
});
after(async () => {
  await h.close();
  await telemetry.shutdown();
});

test('every attempt is a span in the trace of whoever sent the task; retries stay in that trace', async () => {
  const id = await h.client.send(flaky, []);
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
  const finished = spans.getFinishedSpans();
  const send = finished.find((s) => s.name === 'send flaky');
  const attempts = finished.filter((s) => s.name === 'process flaky' && s.attributes['messaging.message.id'] === id);
  assert.ok(send);
  assert.deepEqual(attempts.map((s) => s.attributes['nightshift.attempt']).sort(), [1, 2, 3]);
  for (const attempt of attempts) assert.equal(attempt.spanContext().traceId, send.spanContext().traceId);
  const traced = h.events.filter((e) => e.id === id && e.traceId === send.spanContext().traceId).map((e) => e.type);
  for (const type of ['task.sent', 'task.received', 'task.started', 'task.retried', 'task.succeeded']) assert.ok(traced.includes(type as never), `${type} carries the trace id`);
});

test('signals fire: workerReady, taskFailure and taskRetry on failed attempts, taskSuccess', () => {
  for (const name of ['workerReady', 'taskFailure', 'taskRetry', 'taskSuccess']) assert.ok(seen.includes(name), `${name} fired`);
});

test('/metrics has tasks by outcome, run time, retries, dead letters, limit hits and sandboxes, and promtool accepts it', async () => {
  const id = await h.client.send(spin, []);
  await h.waitForEvent((e) => e.type === 'task.dead-lettered' && e.id === id);
  const echoId = await h.client.send(echo, [1]);
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === echoId);
  const text = await (await fetch(telemetry.metricsUrl)).text();
  for (const series of [
    /^nightshift_tasks_total\{task="echo",outcome="succeeded"[^}]*\} 1$/m,
    /^nightshift_tasks_total\{task="spin",outcome="dead_lettered"[^}]*\} 1$/m,
    /^nightshift_task_retries_total\{task="flaky"[^}]*\} 2$/m,
    /^nightshift_dead_letters_total\{reason="failed",task="spin"[^}]*\} 1$/m,
    /^nightshift_time_limit_hits_total\{task="spin",kind="hard"[^}]*\} 2$/m,
    /^nightshift_task_runtime_seconds_count\{task="echo"[^}]*\} 1$/m,
    /^nightshift_sandboxes\{[^}]*\} 2$/m,
  ]) assert.match(text, series);
  const file = join(mkdtempSync(join(tmpdir(), 'ns-metrics-')), 'metrics.txt');
  writeFileSync(file, text);
  const report = execFileSync('sh', ['-c', `promtool check metrics < ${file} 2>&1; true`]).toString();
  assert.equal(report.trim(), '', `promtool: ${report}`);
});
