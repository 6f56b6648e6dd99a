import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

/** Ends a command's tracing: exports the spans still pending. Never rejects. */
export type StopCommandTracing = () => Promise<void>;

/**
 * Tracing for a short command such as `nightshift send`, so the trace of a task begins where it was sent:
 * spans go over OTLP/HTTP to `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` +
 * `/v1/traces`, read from `env`. No metrics, no `/metrics` port, no logger.
 *
 * Does nothing without an endpoint, or when this process already has a tracer provider (`startTelemetry`
 * ran, as in a test that calls the CLI in-process): the spans then go where that one sends them.
 */
export function startCommandTracing(service: string, env: Readonly<Record<string, string | undefined>>): StopCommandTracing {
  const url = tracesEndpoint(env);
  if (url === undefined) return async () => {};
  const processor = new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url }) });
  const provider = new TracerProvider({ resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: service }), spanProcessors: [processor] });
  if (!trace.setGlobalTracerProvider(provider)) {
    void provider.shutdown();
    return async () => {};
  }
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  return async () => {
    // A collector that is down must not hold the command up, nor fail it: the task was sent.
    await provider.shutdown().catch(() => {});
  };
}

function tracesEndpoint(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim();
  if (traces) return traces;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  return base ? `${base.replace(/\/+$/, '')}/v1/traces` : undefined;
}
