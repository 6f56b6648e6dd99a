export { startTelemetry, DEFAULT_METRICS_PORT, type Telemetry, type TelemetryOptions } from './telemetry.ts';
export { startCommandTracing, type StopCommandTracing } from './command-tracing.ts';
export { createLogger, LOG_LEVELS, type Logger, type LoggerOptions, type LogDestination } from './logger.ts';
export { redact, DEFAULT_REDACT_KEYS, REDACTED, type RedactOptions } from './redact.ts';
export { injectTraceContext, extractTraceContext, replaceTraceContext } from './propagation.ts';
export { InMemorySpanExporter, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
export {
  context, trace, propagation, metrics, ROOT_CONTEXT, SpanKind, SpanStatusCode, ValueType,
  type Attributes, type Context, type Counter, type Histogram, type Meter, type ObservableGauge, type Span,
  type SpanContext, type SpanOptions, type Tracer, type UpDownCounter,
} from '@opentelemetry/api';
export { runInSpan } from './spans.ts';
export { runServiceProcess, startServiceTelemetry, type ServiceProcessOptions, type StoppableService } from './service-process.ts';
