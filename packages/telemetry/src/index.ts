export { startTelemetry, DEFAULT_METRICS_PORT, type Telemetry, type TelemetryOptions } from './telemetry.ts';
export { startCommandTracing, type StopCommandTracing } from './command-tracing.ts';
export { createLogger, type LoggerOptions, type LogDestination } from './logger.ts';
export { createJsonLogger } from './json-logger.ts';
export { redact, DEFAULT_REDACT_KEYS, type RedactOptions } from './redact.ts';
export { injectTraceContext, extractTraceContext, replaceTraceContext, writeSpanContext } from './propagation.ts';
export { traceIdOf } from './trace-id.ts';
// The types of startTelemetry's spanExporter option; tests bring their own exporter (sdk-trace's InMemorySpanExporter).
export type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
export {
  context, trace, metrics, isSpanContextValid, SpanKind, SpanStatusCode, ValueType,
  type Attributes, type Context, type Counter, type Histogram, type Meter, type ObservableCallback, type ObservableGauge, type ObservableResult, type Span, type SpanContext,
} from '@opentelemetry/api';
export { runInSpan } from './spans.ts';
export { runServiceProcess, startServiceTelemetry, type ServiceProcessOptions, type StoppableService } from './service-process.ts';
export {
  ATTR_ERROR_TYPE, ATTR_MESSAGING_SYSTEM_NAME, ATTR_MESSAGING_OPERATION_TYPE, ATTR_MESSAGING_OPERATION_NAME,
  ATTR_MESSAGING_DESTINATION_NAME, ATTR_MESSAGING_DESTINATION_SUBSCRIPTION_NAME, ATTR_MESSAGING_MESSAGE_ID,
  ATTR_MESSAGING_RABBITMQ_DESTINATION_ROUTING_KEY, MESSAGING_SYSTEM_NAME_VALUE_RABBITMQ, ATTR_TASK,
  ATTR_TASK_ID, ATTR_ATTEMPT, ATTR_MAX_ATTEMPTS, ATTR_QUEUE,
  ATTR_WORKER, ATTR_DELIVERY_COUNT, ATTR_OUTCOME, ATTR_TASK_ERROR_TYPE,
  ATTR_RETRY_NEXT_ATTEMPT, ATTR_RETRY_DELAY_MS, ATTR_DEAD_LETTER_ID,
  ATTR_DEAD_LETTER_REASON, ATTR_ALERT_CHANNEL, ATTR_ALERT_KIND,
  ATTR_ALERT_DELIVERY_ATTEMPT, ATTR_ALERT_DEAD_LETTERS, ATTR_ALERT_OUTCOME,
  ATTR_BEAT_ENTRY, ATTR_BEAT_SCHEDULED_FOR, ATTR_BEAT_OUTCOME,
} from './semconv.ts';
