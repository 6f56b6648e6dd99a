import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { defineTask } from '@nightshift/core';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import { startTelemetry, trace, type Telemetry } from '@nightshift/telemetry';
import { consumeTasks, createClient } from '@nightshift/broker';
import { testBroker } from './support.ts';

const greet = defineTask({ name: 'greet', run: (_ctx, who: string) => `hello ${who}` });

let ctx: Awaited<ReturnType<typeof testBroker>>;
let telemetry: Telemetry;
const exporter = new InMemorySpanExporter();
before(async () => {
  telemetry = await startTelemetry({ service: 'trace-test', metricsPort: 0, spanExporter: exporter, logLevel: 'silent' });
  ctx = await testBroker();
});
after(async () => {
  await ctx.cleanup();
  await telemetry.shutdown();
});

test('one trace spans a send and the consumer that handles it', async () => {
  const client = await createClient(ctx.config, { name: 'trace-test' });
  let handlerTraceId = '';
  const handled = new Promise<void>((resolve) => {
    void consumeTasks(ctx.broker, 'traced', async (task) => {
      handlerTraceId = trace.getActiveSpan()?.spanContext().traceId ?? '';
      task.delivery.ack();
      resolve();
    });
  });
  const id = await client.send(greet, ['world'], { queue: 'traced' });
  await handled;
  await client.close();

  const spans = exporter.getFinishedSpans();
  const send = spans.find((s) => s.name === 'send greet');
  const process = spans.find((s) => s.name === 'process greet');
  assert.ok(send, `a send span (got ${spans.map((s) => s.name).join(', ')})`);
  assert.ok(process, 'a process span');
  assert.equal(process.spanContext().traceId, send.spanContext().traceId, 'same trace');
  assert.equal(process.parentSpanContext?.spanId, send.spanContext().spanId, 'the consumer span is a child of the send span');
  assert.equal(handlerTraceId, send.spanContext().traceId, 'the handler runs inside the trace');
  assert.equal(process.attributes['messaging.message.id'], id);
});
