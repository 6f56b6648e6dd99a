import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createTraceState, ROOT_CONTEXT, TraceFlags } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace';
import {
  context, extractTraceContext, injectTraceContext, replaceTraceContext, SpanKind, startTelemetry, trace, traceIdOf, writeSpanContext,
} from '@nightshift/telemetry';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const remoteParent = trace.setSpanContext(ROOT_CONTEXT, {
  traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED, traceState: createTraceState('vendor=opaque'),
});

describe('before startTelemetry', () => {
  test('a span context round-trips through message headers', () => {
    const headers: Record<string, unknown> = { 'x-first-death-queue': 'q.default' };
    injectTraceContext(headers, remoteParent);
    assert.equal(headers.traceparent, `00-${TRACE_ID}-${SPAN_ID}-01`);
    assert.equal(headers.tracestate, 'vendor=opaque');
    assert.equal(headers['x-first-death-queue'], 'q.default', 'other headers are left alone');

    const extracted = trace.getSpanContext(extractTraceContext(headers));
    assert.equal(extracted?.traceId, TRACE_ID);
    assert.equal(extracted?.spanId, SPAN_ID);
    assert.equal(extracted?.isRemote, true);
    assert.equal(extracted?.traceState?.get('vendor'), 'opaque');
  });

  test('writeSpanContext writes what the W3C propagator writes, in place of the trace context the headers carried', () => {
    const unsampled = { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.NONE };
    for (const spanContext of [trace.getSpanContext(remoteParent), unsampled]) {
      const propagated: Record<string, unknown> = {};
      injectTraceContext(propagated, trace.setSpanContext(ROOT_CONTEXT, spanContext!));
      const written: Record<string, unknown> = { TraceParent: 'from-before', tracestate: 'old=1', 'x-first-death-queue': 'q.default' };
      writeSpanContext(written, spanContext!);
      assert.deepEqual(written, { ...propagated, 'x-first-death-queue': 'q.default' });
    }
  });

  test('header values may come back as Buffers, under any case', () => {
    const headers = { TraceParent: Buffer.from(`00-${TRACE_ID}-${SPAN_ID}-01`), tracestate: Buffer.from('vendor=opaque') };
    const extracted = trace.getSpanContext(extractTraceContext(headers));
    assert.equal(extracted?.traceId, TRACE_ID);
    assert.equal(extracted?.traceState?.get('vendor'), 'opaque');
  });

  test('a trace id is read from a valid span context only: none, all zeros (tracing off) and garbage give none', () => {
    assert.equal(traceIdOf(trace.getSpanContext(remoteParent)), TRACE_ID);
    assert.equal(traceIdOf(trace.getSpanContext(extractTraceContext({ traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` }))), TRACE_ID);
    assert.equal(traceIdOf(undefined), undefined);
    assert.equal(traceIdOf(trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }).spanContext()), undefined);
    assert.equal(traceIdOf(trace.getSpanContext(extractTraceContext({ traceparent: `00-${'0'.repeat(32)}-${SPAN_ID}-01` }))), undefined);
    assert.equal(traceIdOf(trace.getSpanContext(extractTraceContext({ traceparent: 'not-a-traceparent' }))), undefined);
  });

  test('no active span: nothing is injected', () => {
    const headers: Record<string, unknown> = {};
    injectTraceContext(headers);
    assert.deepEqual(headers, {});
  });

  test('replaceTraceContext puts a republished message in the new span\'s context, dropping the old trace state', () => {
    const headers: Record<string, unknown> = { TraceParent: `00-${TRACE_ID}-${'1'.repeat(16)}-01`, tracestate: 'old=state', 'x-death': [] };
    const retrySpan = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: TraceFlags.SAMPLED });
    replaceTraceContext(headers, retrySpan);
    assert.deepEqual(headers, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01`, 'x-death': [] }, 'the old context is gone, under any case');
  });

  test('replaceTraceContext without a span (tracing off) leaves the carried context alone', () => {
    const headers: Record<string, unknown> = { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` };
    replaceTraceContext(headers, ROOT_CONTEXT);
    replaceTraceContext(headers);
    assert.deepEqual(headers, { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` });
  });

  test('missing or garbage headers give a root context without throwing', () => {
    const garbage: (Record<string, unknown> | undefined)[] = [
      undefined, {}, { traceparent: 'garbage' }, { traceparent: 42 }, { traceparent: { nested: true } }, { traceparent: null },
      { traceparent: `00-${'0'.repeat(32)}-${SPAN_ID}-01` }, { traceparent: `ff-${TRACE_ID}-${SPAN_ID}-01` },
      { traceparent: [`00-${TRACE_ID}-${SPAN_ID}-01`] }, { tracestate: 'vendor=opaque' },
    ];
    for (const headers of garbage) {
      const extracted = extractTraceContext(headers);
      assert.equal(trace.getSpanContext(extracted), undefined, `headers ${JSON.stringify(headers)}`);
      assert.equal(extracted, ROOT_CONTEXT);
    }
    assert.equal(extractTraceContext(null as unknown as undefined), ROOT_CONTEXT);
  });
});

describe('after startTelemetry', () => {
  test('a consumer span started from extracted headers is a child of the producer span', async () => {
    const exporter = new InMemorySpanExporter();
    const telemetry = await startTelemetry({ service: 'propagation-test', metricsPort: 0, logLevel: 'silent', spanExporter: exporter });
    const headers: Record<string, unknown> = {};
    const producer = telemetry.tracer.startSpan('publish q.default', { kind: SpanKind.PRODUCER });
    context.with(trace.setSpan(context.active(), producer), () => injectTraceContext(headers));
    producer.end();

    const consumer = telemetry.tracer.startSpan('process q.default', { kind: SpanKind.CONSUMER }, extractTraceContext(headers));
    consumer.end();

    const [published, processed] = exporter.getFinishedSpans();
    assert.ok(published && processed);
    assert.equal(processed.spanContext().traceId, published.spanContext().traceId);
    assert.equal(processed.parentSpanContext?.spanId, published.spanContext().spanId);
    assert.notEqual(processed.spanContext().spanId, published.spanContext().spanId);
    await telemetry.shutdown();
  });
});
