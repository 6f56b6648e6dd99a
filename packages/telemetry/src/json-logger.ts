// The JSON logger without OpenTelemetry: what a thread sandbox loads (51 modules fewer than logger.ts, and no
// tracing there to read a span from). A sandbox's task lines carry the attempt's trace and span ids as plain
// bindings, passed to it with the task.
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
  /**
   * The time a line is stamped with, as `Date.now()` gives it: a logger that writes lines after they were logged
   * (a thread sandbox's, while its logger loads) stamps each with its own moment. Default: `Date.now`.
   */
  readonly now?: () => number;
}

/**
 * A JSON logger (pino) whose lines carry `time` (ISO 8601), `level` (its name), `service`, `pid` and `hostname`,
 * redacted as `createLogger`'s are, but with no span fields of its own: bind `trace_id` and `span_id` where
 * they are known.
 * @throws Error naming the option at fault when `service` or `level` is invalid.
 */
export function createJsonLogger(options: LoggerOptions): pino.Logger {
  return jsonLogger(options, 'createJsonLogger', undefined);
}

/** The logger both `createJsonLogger` and `createLogger` make; `mixin` adds fields to every line. */
export function jsonLogger(options: LoggerOptions, caller: string, mixin: (() => Record<string, string>) | undefined): pino.Logger {
  if (typeof options.service !== 'string' || options.service.trim() === '') {
    throw new Error(`${caller}: service must be a non-empty string`);
  }
  const level = options.level ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new Error(`${caller}: level ${JSON.stringify(level)} must be one of ${LOG_LEVELS.join(', ')}`);
  }
  const redaction = compileRedaction({ keys: options.redactKeys, values: options.redactValues });
  const settings: pino.LoggerOptions = {
    level,
    base: { service: options.service, pid: process.pid, hostname: hostname() },
    timestamp: options.now === undefined ? pino.stdTimeFunctions.isoTime : isoTimeOf(options.now),
    ...(mixin ? { mixin } : {}),
    formatters: { level: (label) => ({ level: label }) },
    hooks: { streamWrite: (line) => redactLine(line, redaction) },
  };
  return options.destination === undefined ? pino(settings) : pino(settings, options.destination);
}

// pino's isoTime, read from another clock.
function isoTimeOf(now: () => number): () => string {
  return () => `,"time":"${new Date(now()).toISOString()}"`;
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
