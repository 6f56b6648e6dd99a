import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { signals } from '@nightshift/core';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { SpanKind, SpanStatusCode, startTelemetry, type ReadableSpan, type Telemetry } from '@nightshift/telemetry';
import { doomed, echo, flaky, spin } from './fixtures/app.ts';
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

test('every attempt is a span in the trace of whoever sent the task; each retry is a span between two attempts', async () => {
  const id = await h.client.send(flaky, []);
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
  const finished = spans.getFinishedSpans().filter((s) => s.attributes['nightshift.task.id'] === id);
  const send = finished.find((s) => s.name === 'send flaky');
  const attempts = finished.filter((s) => s.name === 'process flaky').sort((a, b) => Number(a.attributes['nightshift.attempt']) - Number(b.attributes['nightshift.attempt']));
  const retries = finished.filter((s) => s.name === 'retry flaky').sort((a, b) => Number(a.attributes['nightshift.attempt']) - Number(b.attributes['nightshift.attempt']));
  assert.ok(send);
  assert.deepEqual(attempts.map((s) => s.attributes['nightshift.attempt']), [1, 2, 3]);
  assert.deepEqual(retries.map((s) => s.attributes['nightshift.retry.next_attempt']), [2, 3]);
  const parentOf = (span: ReadableSpan | undefined) => span?.parentSpanContext?.spanId;
  const idOf = (span: ReadableSpan | undefined) => span?.spanContext().spanId;
  assert.equal(parentOf(attempts[0]), idOf(send), 'attempt 1 is a child of the send');
  assert.equal(parentOf(retries[0]), idOf(attempts[0]), 'the first retry is a child of attempt 1');
  assert.equal(parentOf(attempts[1]), idOf(retries[0]), 'attempt 2 is a child of the first retry');
  assert.equal(parentOf(retries[1]), idOf(attempts[1]));
  assert.equal(parentOf(attempts[2]), idOf(retries[1]));
  for (const span of [...attempts, ...retries]) assert.equal(span.spanContext().traceId, send.spanContext().traceId);
  assert.deepEqual(attempts.map((s) => s.attributes['nightshift.outcome']), ['retried', 'retried', 'succeeded']);
  assert.deepEqual(attempts.map((s) => s.status.code), [SpanStatusCode.ERROR, SpanStatusCode.ERROR, SpanStatusCode.UNSET]);
  assert.equal(retries[0]?.kind, SpanKind.PRODUCER);
  assert.equal(retries[0]?.attributes['nightshift.error.type'], 'Error');
  const traced = h.events.filter((e) => e.id === id && e.traceId === send.spanContext().traceId).map((e) => e.type);
  for (const type of ['task.sent', 'task.received', 'task.started', 'task.retried', 'task.succeeded']) assert.ok(traced.includes(type as never), `${type} carries the trace id`);
});

test('a task that fails for good: a dead-letter span under its last attempt, whose context the dead letter carries', async () => {
  const id = await h.client.send(doomed, []);
  const [deadLetter] = await h.deadLetters(1);
  await h.waitForEvent((e) => e.type === 'task.dead-lettered' && e.id === id);
  const finished = spans.getFinishedSpans().filter((s) => s.attributes['nightshift.task.id'] === id);
  const last = finished.find((s) => s.name === 'process doomed' && s.attributes['nightshift.attempt'] === 3);
  const dead = finished.find((s) => s.name === 'dead-letter doomed');
  assert.ok(last && dead, `spans: ${finished.map((s) => s.name).join(', ')}`);
  assert.equal(dead.parentSpanContext?.spanId, last.spanContext().spanId);
  assert.equal(dead.kind, SpanKind.PRODUCER);
  assert.equal(dead.attributes['nightshift.dead_letter.reason'], 'failed');
  assert.equal(dead.attributes['nightshift.attempt'], 3);
  assert.equal(last.attributes['nightshift.outcome'], 'dead_lettered');
  assert.equal(deadLetter?.properties.messageId, id);
  assert.equal(deadLetter?.properties.headers?.traceparent, `00-${dead.spanContext().traceId}-${dead.spanContext().spanId}-01`);
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
