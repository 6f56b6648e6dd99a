import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { propagation } from '@opentelemetry/api';
import {
  context, createLogger, extractTraceContext, injectTraceContext, trace, traceIdOf, type Span, type Telemetry, startTelemetry,
} from '@nightshift/telemetry';
import { randomSpanId, randomTraceId } from '../src/id-only-tracer.ts';

// No exporter at all: spans go nowhere, yet must carry ids for log lines and for the messages' traceparent.
delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;

let telemetry: Telemetry;
before(async () => {
  telemetry = await startTelemetry({ service: 'id-only-test', metricsPort: 0, metricsHost: '127.0.0.1', logLevel: 'silent' });
});
after(() => telemetry.shutdown());

const PARENT_TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

/** A log line written, and the headers injected, inside `span` made active. */
function observeInside(span: Span): { line: Record<string, unknown>; headers: Record<string, unknown> } {
  const raw: string[] = [];
  const logger = createLogger({ service: 'beat', destination: { write: (line: string) => void raw.push(line) } });
  const headers: Record<string, unknown> = {};
  context.with(trace.setSpan(context.active(), span), () => {
    logger.info('inside');
    injectTraceContext(headers);
  });
  return { line: JSON.parse(raw[0] ?? '{}') as Record<string, unknown>, headers };
}

test('a span under a parent continues its trace with a fresh span id, sampled, recording nothing', () => {
  const parent = extractTraceContext({ traceparent: `00-${PARENT_TRACE_ID}-${PARENT_SPAN_ID}-01`, tracestate: 'vendor=abc' });
  const span = telemetry.tracer.startSpan('send report', {}, parent);
  const { traceId, spanId, traceFlags, traceState } = span.spanContext();

  assert.equal(span.isRecording(), false, 'nothing exports it, so nothing is recorded');
  assert.equal(traceId, PARENT_TRACE_ID);
  assert.match(spanId, /^[0-9a-f]{16}$/);
  assert.notEqual(spanId, PARENT_SPAN_ID);
  assert.equal(traceFlags, 1);
  assert.equal(traceState?.serialize(), 'vendor=abc');
  assert.equal(traceIdOf(span.spanContext()), PARENT_TRACE_ID, 'task events still get the trace id');

  const { line, headers } = observeInside(span);
  assert.deepEqual([line.trace_id, line.span_id, line.trace_flags], [PARENT_TRACE_ID, spanId, '01']);
  assert.deepEqual(headers, { traceparent: `00-${PARENT_TRACE_ID}-${spanId}-01`, tracestate: 'vendor=abc' });
  span.end();
});

test('startActiveSpan starts a new sampled trace, makes the span active, and its children continue it', () => {
  let child: Span | undefined;
  const root = telemetry.tracer.startActiveSpan('beat nightly', { root: true }, (span) => {
    assert.equal(trace.getActiveSpan(), span);
    child = telemetry.tracer.startSpan('send nightly');
    return span;
  });
  const { traceId, spanId, traceFlags } = root.spanContext();
  assert.equal(root.isRecording(), false);
  assert.match(traceId, /^[0-9a-f]{32}$/);
  assert.notEqual(traceId, '0'.repeat(32));
  assert.match(spanId, /^[0-9a-f]{16}$/);
  assert.equal(traceFlags, 1);

  assert.ok(child !== undefined);
  assert.equal(child.spanContext().traceId, traceId);
  assert.notEqual(child.spanContext().spanId, spanId);
  const { headers } = observeInside(child);
  assert.equal(headers.traceparent, `00-${traceId}-${child.spanContext().spanId}-01`);
  const viaGlobal: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), child), viaGlobal);
  assert.equal(viaGlobal.traceparent, headers.traceparent, 'the W3C propagator is registered globally');
});

test('root: true ignores the active parent; a parent not sampled keeps its children unsampled, as the SDK\'s default sampler does', () => {
  const parent = extractTraceContext({ traceparent: `00-${PARENT_TRACE_ID}-${PARENT_SPAN_ID}-00` });
  const [root, child] = context.with(parent, () => [telemetry.tracer.startSpan('beat x', { root: true }), telemetry.tracer.startSpan('send x')]);
  assert.notEqual(root?.spanContext().traceId, PARENT_TRACE_ID);
  assert.equal(root?.spanContext().traceFlags, 1);
  assert.equal(child?.spanContext().traceId, PARENT_TRACE_ID);
  assert.equal(child?.spanContext().traceFlags, 0);
});

test('ids are lower-case hex of the right length and do not repeat', () => {
  const spanIds = new Set(Array.from({ length: 10_000 }, randomSpanId));
  const traceIds = new Set(Array.from({ length: 10_000 }, randomTraceId));
  assert.equal(spanIds.size, 10_000);
  assert.equal(traceIds.size, 10_000);
  for (const id of spanIds) assert.match(id, /^[0-9a-f]{16}$/);
  for (const id of traceIds) assert.match(id, /^[0-9a-f]{32}$/);
});
