import { isSpanContextValid, type SpanContext } from '@opentelemetry/api';

/**
 * The trace id of `spanContext`, for the records that link to a trace (task history, dead letters); undefined
 * where there is no valid span: none at all, or tracing off (OpenTelemetry's no-op spans carry all zeros).
 */
export function traceIdOf(spanContext: SpanContext | undefined): string | undefined {
  return spanContext !== undefined && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}
