import { diag, DiagLogLevel, metrics, trace, type Meter, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OTLPProtobufTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { defaultResource, detectResources, envDetector, hostDetector, osDetector, resourceFromAttributes, serviceInstanceIdDetector, type Resource } from '@opentelemetry/resources';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import { BatchSpanProcessor, SimpleSpanProcessor, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace';
import { format } from 'node:util';
import type pino from 'pino';
import type { Logger } from '@nightshift/core';
import { IdOnlyTracerProvider } from './id-only-tracer.ts';
import { createLogger } from './logger.ts';
import { serveMetrics, type MetricsServer } from './metrics-server.ts';

/** The port of `/metrics` when none is given: Prometheus's registered port for OpenTelemetry. */
export const DEFAULT_METRICS_PORT = 9464;

export interface TelemetryOptions {
  /** The service: `service.name` on every span and metric, `service` on every log line. Required. */
  readonly service: string;
  /** Port of this process's Prometheus `/metrics`; `0` picks a free one (read it back from `metricsPort`). Default: `9464`. */
  readonly metricsPort?: number;
  /** Interface `/metrics` listens on. Default: all interfaces, so Prometheus can scrape from another container. */
  readonly metricsHost?: string;
  /** Level of `telemetry.logger`, `trace` to `fatal` or `silent`. Default: `info`. */
  readonly logLevel?: string;
  /** Extra key names the logger redacts, added to `DEFAULT_REDACT_KEYS`. Default: none. */
  readonly redactKeys?: readonly string[];
  /** Secret values the logger masks wherever they appear. Default: none. */
  readonly redactValues?: readonly string[];
  /** Also hand every ended span to this exporter at once (a `SimpleSpanProcessor`); for tests, e.g. `@opentelemetry/sdk-trace`'s `InMemorySpanExporter`. Default: none. */
  readonly spanExporter?: SpanExporter;
}

/** A process's running telemetry. */
export interface Telemetry {
  readonly service: string;
  readonly logger: pino.Logger;
  readonly tracer: Tracer;
  readonly meter: Meter;
  /** The port `/metrics` is bound to: the requested one, or the free one picked for `0`. */
  readonly metricsPort: number;
  /** Where to scrape, e.g. `http://127.0.0.1:9464/metrics`. */
  readonly metricsUrl: string;
  /** Exports the spans still pending, stops the SDK and closes `/metrics`. Idempotent; never rejects (problems are logged). */
  shutdown(): Promise<void>;
}

let startedFor: string | undefined;

/**
 * Starts OpenTelemetry for this process: a tracer provider (spans go to OTLP over HTTP when
 * `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is set, as JSON or, when
 * `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL` or `OTEL_EXPORTER_OTLP_PROTOCOL` says `http/protobuf`, protobuf; and to `spanExporter`
 * when given; without either, spans are non-recording ones that still get ids for log correlation and propagation), a meter
 * provider read by Prometheus on `/metrics`, the W3C trace-context propagator and an async-local
 * context manager, all registered globally, with `service.name` on the resource.
 *
 * Once per process: OpenTelemetry's globals are registered once, and tracers taken from them before a
 * restart would keep pointing at the stopped SDK. A second call, even after `shutdown()`, throws;
 * several services in one process share one `Telemetry`.
 * @throws Error naming the option at fault, when telemetry already started, or when `/metrics` cannot be bound.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const { service, metricsHost } = options;
  const metricsPort = options.metricsPort ?? DEFAULT_METRICS_PORT;
  if (typeof service !== 'string' || service.trim() === '') throw new Error('startTelemetry: service must be a non-empty string');
  if (!Number.isInteger(metricsPort) || metricsPort < 0 || metricsPort > 65_535) {
    throw new Error(`startTelemetry: metricsPort ${JSON.stringify(metricsPort)} must be a whole number from 0 to 65535`);
  }
  const logger = createLogger({ service, level: options.logLevel, redactKeys: options.redactKeys, redactValues: options.redactValues });
  const resource = await detectResource(service);
  if (startedFor !== undefined) {
    throw new Error(`startTelemetry: telemetry was already started in this process (service ${JSON.stringify(startedFor)}); start it once and share the Telemetry object`);
  }
  startedFor = service;
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  let server: MetricsServer;
  try {
    server = await serveMetrics(prometheus, metricsPort, metricsHost);
  } catch (error) {
    startedFor = undefined; // nothing was registered yet: a retry on another port may start cleanly
    throw error;
  }
  // No await from here to the return: a scrape never finds the exporter without its meter provider.

  const spanProcessors = chooseSpanProcessors(options.spanExporter, logger);
  const sdk = new NodeSDK({
    resource,
    autoDetectResources: false,
    textMapPropagator: new W3CTraceContextPropagator(),
    spanProcessors,
    metricReaders: [prometheus],
    // Logs go through pino, not the OpenTelemetry log pipeline (which would default to OTLP).
    logRecordProcessors: [],
  });
  sdk.start();
  // With no processor the SDK registers no tracer provider (its context manager and propagator it still does):
  // spans that would go nowhere get ids only, for log lines and trace propagation.
  if (spanProcessors.length === 0) trace.setGlobalTracerProvider(new IdOnlyTracerProvider());
  routeDiagnostics(logger);

  let stopping: Promise<void> | undefined;
  const shutdown = async (): Promise<void> => {
    // A SimpleSpanProcessor shuts its exporter down without waiting for exports in flight: flush first.
    for (const processor of spanProcessors) await settle(logger, 'flushing spans', processor.forceFlush());
    await settle(logger, 'stopping the OpenTelemetry SDK', sdk.shutdown());
    await server.close();
    logger.flush();
  };
  return Object.freeze({
    service,
    logger,
    tracer: trace.getTracer(service),
    meter: metrics.getMeter(service),
    metricsPort: server.port,
    metricsUrl: server.url,
    shutdown: () => (stopping ??= shutdown()),
  });
}

/**
 * Defaults, `OTEL_RESOURCE_ATTRIBUTES`, host, OS and instance id, then `service.name`. Settled before
 * use: a scrape that reads attributes still being detected gets an error instead of `target_info`.
 * No process detector: the command line it records could carry secrets onto `/metrics`.
 */
async function detectResource(service: string): Promise<Resource> {
  const detected = detectResources({ detectors: [envDetector, hostDetector, osDetector, serviceInstanceIdDetector] });
  await detected.waitForAsyncAttributes?.();
  return defaultResource().merge(detected).merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }));
}

function chooseSpanProcessors(spanExporter: SpanExporter | undefined, logger: Logger): SpanProcessor[] {
  const processors: SpanProcessor[] = [];
  const otlpEndpoint = process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (otlpEndpoint !== undefined && otlpEndpoint.trim() !== '') {
    processors.push(new BatchSpanProcessor({ exporter: otlpTraceExporter(logger), ...batchSettings(logger) }));
  }
  if (spanExporter !== undefined) processors.push(new SimpleSpanProcessor({ exporter: spanExporter }));
  return processors;
}

/**
 * OpenTelemetry's OTEL_BSP_* variables, which the SDK reads only when it builds its own processor: the batch an
 * export carries at most (its serialization holds the worker's main thread), how many spans may wait, how long
 * before a partial batch goes, and an export's timeout. Unset or not a whole number: the SDK's default.
 */
function batchSettings(logger: Logger): { maxExportBatchSize?: number; maxQueueSize?: number; scheduledDelayMillis?: number; exportTimeoutMillis?: number } {
  const read = (variable: string): number | undefined => {
    const raw = process.env[variable]?.trim();
    if (!raw) return undefined;
    const value = Number(raw);
    if (Number.isInteger(value) && value > 0) return value;
    logger.warn({ [variable]: raw }, `${variable} ${JSON.stringify(raw)} is not a whole number above 0: OpenTelemetry's default is used`);
    return undefined;
  };
  const settings = {
    maxExportBatchSize: read('OTEL_BSP_MAX_EXPORT_BATCH_SIZE'), maxQueueSize: read('OTEL_BSP_MAX_QUEUE_SIZE'),
    scheduledDelayMillis: read('OTEL_BSP_SCHEDULE_DELAY'), exportTimeoutMillis: read('OTEL_BSP_EXPORT_TIMEOUT'),
  };
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

/**
 * OTLP/HTTP with JSON bodies, or protobuf ones when the protocol variable says `http/protobuf`: half the bytes
 * (serialized alone in about 60 % of JSON's time, yet bench/compare measured the worker's main thread spending
 * more per task with it than with JSON). Either exporter reads the endpoint, headers and timeout from the same OTEL_EXPORTER_OTLP_* variables.
 */
function otlpTraceExporter(logger: Logger): SpanExporter {
  const variable = process.env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ? 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL' : 'OTEL_EXPORTER_OTLP_PROTOCOL';
  const protocol = process.env[variable]?.trim() || 'http/json';
  if (protocol === 'http/protobuf') return new OTLPProtobufTraceExporter();
  if (protocol !== 'http/json') logger.warn({ [variable]: protocol }, `${variable} ${JSON.stringify(protocol)} is not http/json or http/protobuf: spans go over OTLP/HTTP as JSON`);
  return new OTLPTraceExporter();
}

// OpenTelemetry reports its own trouble (an unreachable collector) through `diag`, silent by default.
function routeDiagnostics(logger: pino.Logger): void {
  if (process.env.OTEL_LOG_LEVEL !== undefined) return; // the SDK already set the console logger it asks for
  const log = logger.child({ component: 'opentelemetry' });
  const write = (level: 'error' | 'warn' | 'info' | 'debug') => (message: string, ...args: unknown[]) => log[level](format(message, ...args));
  diag.setLogger(
    { error: write('error'), warn: write('warn'), info: write('info'), debug: write('debug'), verbose: write('debug') },
    { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true },
  );
}

async function settle(logger: Logger, step: string, work: Promise<unknown>): Promise<void> {
  try {
    await work;
  } catch (error) {
    logger.warn({ err: error }, `telemetry shutdown: ${step} failed`);
  }
}
