export { startTelemetry, DEFAULT_METRICS_PORT, type Telemetry, type TelemetryOptions } from './telemetry.ts';
export { startCommandTracing, type StopCommandTracing } from './command-tracing.ts';
export { createLogger, type LoggerOptions, type LogDestination } from './logger.ts';
export { redact, DEFAULT_REDACT_KEYS, REDACTED, type RedactOptions } from './redact.ts';
export { injectTraceContext, extractTraceContext, replaceTraceContext } from './propagation.ts';
export { traceIdOf } from './trace-id.ts';
export { InMemorySpanExporter, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
export {
  context, trace, propagation, metrics, ROOT_CONTEXT, SpanKind, SpanStatusCode, ValueType,
  type Attributes, type Context, type Counter, type Histogram, type Meter, type ObservableGauge, type Span,
  type SpanContext, type SpanOptions, type Tracer, type UpDownCounter,
} from '@opentelemetry/api';
export { runInSpan } from './spans.ts';
export { runServiceProcess, startServiceTelemetry, type ServiceProcessOptions, type StoppableService } from './service-process.ts';
export {
  ATTR_ERROR_TYPE, ATTR_MESSAGING_SYSTEM_NAME, ATTR_MESSAGING_OPERATION_TYPE, ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_DESTINATION_NAME, ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME, ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY, MESSAGING_SYSTEM_NAME_VALUE_RABBITMQ, ATTR_NIGHTSHIFT_TASK,
  ATTR_NIGHTSHIFT_TASK_ID, ATTR_NIGHTSHIFT_ATTEMPT, ATTR_NIGHTSHIFT_MAX_ATTEMPTS, ATTR_NIGHTSHIFT_QUEUE,
  ATTR_NIGHTSHIFT_WORKER, ATTR_NIGHTSHIFT_DELIVERY_COUNT, ATTR_NIGHTSHIFT_OUTCOME, ATTR_NIGHTSHIFT_ERROR_TYPE,
  ATTR_NIGHTSHIFT_RETRY_NEXT_ATTEMPT, ATTR_NIGHTSHIFT_RETRY_DELAY_MS, ATTR_NIGHTSHIFT_DEAD_LETTER_ID,
  ATTR_NIGHTSHIFT_DEAD_LETTER_REASON, ATTR_NIGHTSHIFT_ALERT_CHANNEL, ATTR_NIGHTSHIFT_ALERT_KIND,
  ATTR_NIGHTSHIFT_ALERT_DELIVERY_ATTEMPT, ATTR_NIGHTSHIFT_ALERT_DEAD_LETTERS, ATTR_NIGHTSHIFT_ALERT_OUTCOME,
  ATTR_NIGHTSHIFT_BEAT_ENTRY, ATTR_NIGHTSHIFT_BEAT_SCHEDULED_FOR, ATTR_NIGHTSHIFT_BEAT_OUTCOME,
} from './semconv.ts';
