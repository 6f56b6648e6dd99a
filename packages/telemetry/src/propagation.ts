import {
  context as contextApi, isSpanContextValid, ROOT_CONTEXT, trace, type Context, type SpanContext, type TextMapGetter, type TextMapSetter,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * W3C trace context (`traceparent`, `tracestate`) in AMQP message headers. A propagator instance of
 * our own, not the global one, so producers and consumers agree on the format whether or not
 * `startTelemetry` ran in this process.
 */
const propagator = new W3CTraceContextPropagator();

type Headers = Record<string, unknown>;

const TRACE_HEADERS: ReadonlySet<string> = new Set(['traceparent', 'tracestate']);

const headerSetter: TextMapSetter<Headers> = {
  set(headers, key, value) {
    headers[key] = value;
  },
};

// Brokers and other clients may hand header values back as Buffers, and may change the key's case.
const headerGetter: TextMapGetter<Headers> = {
  keys: (headers) => Object.keys(headers),
  get(headers, key) {
    const name = Object.hasOwn(headers, key) ? key : Object.keys(headers).find((candidate) => candidate.toLowerCase() === key);
    return name === undefined ? undefined : asText(headers[name]);
  },
};

function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
  return undefined;
}

/**
 * Writes the trace context of `context` (default: the active one) into `headers` as `traceparent`
 * and, when there is trace state, `tracestate`. Writes nothing when there is no valid span. Never throws.
 */
export function injectTraceContext(headers: Record<string, unknown>, context: Context = contextApi.active()): void {
  try {
    propagator.inject(context, headers, headerSetter);
  } catch {
    // Trace context is a courtesy: a message must never fail to publish because of it.
  }
}

/**
 * Writes `spanContext`, already known to be valid, into `headers` in place of the trace context they carry, as the
 * W3C propagator writes it (version 00): what a span that records nothing needs, without the propagator's checks of
 * the ids again (a send made them twice more, on ids its tracer had just checked).
 */
export function writeSpanContext(headers: Record<string, unknown>, spanContext: SpanContext): void {
  dropTraceContext(headers);
  headers.traceparent = `00-${spanContext.traceId}-${spanContext.spanId}-0${Number(spanContext.traceFlags).toString(16)}`;
  const state = spanContext.traceState?.serialize();
  if (state) headers.tracestate = state;
}

/**
 * Writes the trace context of `context` (default: the active one) into `headers` in place of the one they
 * carry: for a message published again (a retry, a dead letter), whose consumer should continue the trace
 * from the span that published it rather than from the original sender. When `context` holds no valid span
 * (tracing is off), `headers` keep the context they carried. Never throws.
 */
export function replaceTraceContext(headers: Record<string, unknown>, context: Context = contextApi.active()): void {
  const spanContext = trace.getSpanContext(context);
  if (spanContext === undefined || !isSpanContextValid(spanContext)) return;
  dropTraceContext(headers);
  injectTraceContext(headers, context);
}

// The trace context headers carry, under any case, taken out before another is written.
function dropTraceContext(headers: Record<string, unknown>): void {
  for (const key of Object.keys(headers)) {
    if (TRACE_HEADERS.has(key.toLowerCase())) delete headers[key];
  }
}

/**
 * The context carried by message `headers`: a root context holding the remote parent span, ready to
 * pass to `tracer.startSpan(name, options, context)`. Missing or malformed headers give a root context
 * without a span. Never throws.
 */
export function extractTraceContext(headers: Record<string, unknown> | undefined): Context {
  if (headers === undefined || headers === null || typeof headers !== 'object') return ROOT_CONTEXT;
  try {
    return propagator.extract(ROOT_CONTEXT, headers, headerGetter);
  } catch {
    return ROOT_CONTEXT;
  }
}
