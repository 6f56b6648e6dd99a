import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import type pino from 'pino';
import { jsonLogger, type LoggerOptions } from './json-logger.ts';

export type { LogDestination, LoggerOptions } from './json-logger.ts';

/**
 * A JSON logger for one service: a pino logger, so core's `Logger` and more (`child`, `fatal`, `flush`). Every line carries `time` (ISO 8601), `level` (its name), `service`,
 * `pid`, `hostname`, and `trace_id`, `span_id` and `trace_flags` of the span active when it was
 * written, if any. Secrets never reach the output: each finished line is redacted by key name,
 * secret value and URL password (see `redact`), whether the secret came from the arguments, a
 * child's bindings, an error or a serializer.
 * @throws Error naming the option at fault when `service` or `level` is invalid.
 */
export function createLogger(options: LoggerOptions): pino.Logger {
  return jsonLogger(options, 'createLogger', activeSpanFields);
}

/** The ids of the active span, for log lines; nothing outside a span. */
function activeSpanFields(): Record<string, string> {
  const span = trace.getSpan(context.active());
  if (span === undefined) return {};
  const spanContext = span.spanContext();
  if (!isSpanContextValid(spanContext)) return {};
  return {
    trace_id: spanContext.traceId,
    span_id: spanContext.spanId,
    trace_flags: `0${spanContext.traceFlags.toString(16)}`.slice(-2),
  };
}
