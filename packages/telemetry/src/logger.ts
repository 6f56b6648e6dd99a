import { context, isSpanContextValid, trace } from '@opentelemetry/api';
import { hostname } from 'node:os';
import pino from 'pino';
import { LOG_LEVELS } from '@nightshift/core';
import { compileRedaction, redactText, redactWith, type Redaction } from './redact.ts';

/** Where log lines are written: anything with `write(line)`. */
export type LogDestination = pino.DestinationStream;

export interface LoggerOptions {
  /** Written as `service` on every line. Required. */
  readonly service: string;
  /** One of core's `LOG_LEVELS`. Default: `info`. */
  readonly level?: string;
  /** Extra key names whose values are redacted, added to `DEFAULT_REDACT_KEYS`. Default: none. */
  readonly redactKeys?: readonly string[];
  /** Secret values masked wherever they appear in a line (connection passwords, tokens). Default: none. */
  readonly redactValues?: readonly string[];
  /** Where lines go. Default: standard output. */
  readonly destination?: LogDestination;
}

/**
 * A JSON logger for one service: a pino logger, so core's `Logger` and more (`child`, `fatal`, `flush`). Every line carries `time` (ISO 8601), `level` (its name), `service`,
 * `pid`, `hostname`, and `trace_id`, `span_id` and `trace_flags` of the span active when it was
 * written, if any. Secrets never reach the output: each finished line is redacted by key name,
 * secret value and URL password (see `redact`), whether the secret came from the arguments, a
 * child's bindings, an error or a serializer.
 * @throws Error naming the option at fault when `service` or `level` is invalid.
 */
export function createLogger(options: LoggerOptions): pino.Logger {
  if (typeof options.service !== 'string' || options.service.trim() === '') {
    throw new Error('createLogger: service must be a non-empty string');
  }
  const level = options.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`createLogger: level ${JSON.stringify(level)} must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const redaction = compileRedaction({ keys: options.redactKeys, values: options.redactValues });
  const settings: pino.LoggerOptions = {
    level,
    base: { service: options.service, pid: process.pid, hostname: hostname() },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: activeSpanFields,
    formatters: { level: (label) => ({ level: label }) },
    hooks: { streamWrite: (line) => redactLine(line, redaction) },
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}

// Redacting the finished line, rather than the arguments, sees everything pino adds on the way: child
// bindings (pino gives children no bindings formatter), serialized errors, class instances' fields.
function redactLine(line: string, redaction: Redaction): string {
  try {
    return `${JSON.stringify(redactWith(JSON.parse(line), redaction))}\n`;
  } catch {
    return redactText(line, redaction);
  }
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
