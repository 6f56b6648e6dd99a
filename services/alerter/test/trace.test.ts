import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { SpanKind, startTelemetry, type ReadableSpan, type Telemetry } from '@nightshift/telemetry';
import { deadLetterTask, eventually, pagedHarness, rowCount, type AlerterHarness, type PagedHarness } from './support.ts';

class ReportTimeout extends Error {
  override name = 'ReportTimeout';
}

const spans = new InMemorySpanExporter();
let telemetry: Telemetry;
let paged: PagedHarness;
let slack: PagedHarness['slack'];
let smtp: PagedHarness['smtp'];
let harness: AlerterHarness;

before(async () => {
  telemetry = await startTelemetry({ service: 'alerter-trace-test', metricsPort: 0, logLevel: 'silent', spanExporter: spans });
  paged = await pagedHarness({ NIGHTSHIFT_TRACE_URL: 'http://traces.test/trace/{traceId}?uiFind=dead-letter' });
  ({ slack, smtp, harness } = paged);
});
after(async () => {
  await paged.close();
  await telemetry.shutdown();
});

test('storing a dead letter continues its trace, and each channel\'s page delivery is a child of that store span', async () => {
  const alerter = await harness.start();
  const traceId = 'a1'.repeat(16);
  const first = await deadLetterTask(harness.producer, 'reports.generate', [{ password: 'hunter2-in-args' }], new ReportTimeout('no answer'), { traceId });
  // The intake stores several dead letters at once; the second is sent once the first is stored, so it is the one grouped.
  await eventually('the first row', async () => (await rowCount(harness.store)) === 1);
  const second = await deadLetterTask(harness.producer, 'reports.generate', ['usage'], new ReportTimeout('no answer'), { traceId: 'b2'.repeat(16) });
  await eventually('both rows', async () => (await rowCount(harness.store)) === 2);
  await eventually('the page on Slack and by email', () => slack.messages.length === 1 && smtp.mails.length === 1);
  await alerter.stop(); // the outbox marks what it sent, and every span has ended

  const finished = spans.getFinishedSpans();
  const one = (name: string, taskId: string): ReadableSpan => {
    const found = finished.filter((s) => s.name === name && s.attributes['nightshift.task.id'] === taskId);
    assert.equal(found.length, 1, `one ${name} of ${taskId}; spans: ${finished.map((s) => s.name).join(', ')}`);
    return found[0] as ReadableSpan;
  };
  const deadLetter = one('dead-letter reports.generate', first.id);
  const store = one('store reports.generate', first.id);
  assert.equal(deadLetter.spanContext().traceId, traceId, 'the dead-letter span continues the trace the message carried');
  assert.equal(store.parentSpanContext?.spanId, deadLetter.spanContext().spanId, 'the store span is a child of the dead-letter span');
  assert.equal(store.kind, SpanKind.CONSUMER);
  assert.equal(store.attributes['nightshift.alert.outcome'], 'paged');
  assert.equal(store.attributes['nightshift.dead_letter.reason'], 'failed');
  assert.equal(store.attributes['nightshift.error.type'], 'ReportTimeout');
  assert.equal(store.attributes['messaging.operation.type'], 'process');
  for (const key of ['nightshift.task', 'nightshift.task.id', 'nightshift.queue', 'nightshift.dead_letter.reason', 'nightshift.error.type']) {
    assert.equal(store.attributes[key], deadLetter.attributes[key], `${key}: the same at both ends of the dead letter's trace`);
  }

  const deliveries = finished.filter((s) => s.name.startsWith('alert ')).sort((a, b) => a.name.localeCompare(b.name));
  assert.deepEqual(deliveries.map((s) => s.name), ['alert email', 'alert log', 'alert slack']);
  for (const delivery of deliveries) {
    assert.equal(delivery.spanContext().traceId, traceId, `${delivery.name} is in the dead letter's trace`);
    assert.equal(delivery.parentSpanContext?.spanId, store.spanContext().spanId, `${delivery.name} is a child of the store span`);
    assert.equal(delivery.attributes['nightshift.dead_letter.id'], store.attributes['nightshift.dead_letter.id']);
  }

  const grouped = one('store reports.generate', second.id);
  assert.equal(grouped.attributes['nightshift.alert.outcome'], 'grouped', 'the second dead letter joined the group: its trace ends at its store span');
  assert.equal(grouped.spanContext().traceId, 'b2'.repeat(16));

  const link = `http://traces.test/trace/${traceId}?uiFind=dead-letter`;
  assert.ok(slack.messages[0]?.raw.includes(link), `the Slack message links to the trace: ${slack.messages[0]?.raw}`);
  assert.ok(smtp.mails[0]?.text.includes(`Trace:     ${link}`), `the email links to the trace: ${smtp.mails[0]?.text}`);
  assert.doesNotMatch(JSON.stringify(finished.map((s) => s.attributes)), /hunter2|usage/, 'spans never carry args');
});
