// A stand-in for the trace store (Jaeger, an OpenTelemetry Collector): a local HTTP server that takes OTLP/HTTP
// trace exports (`POST /v1/traces`, JSON) from the processes under test and keeps their spans.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';

/** One span as the trace store received it. Ids are lowercase hex; `parentSpanId` is undefined for a root. */
export interface CollectedSpan {
  /** `service.name` of the process that exported it. */
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer' | 'unspecified';
  readonly attributes: Readonly<Record<string, unknown>>;
  readonly links: readonly { readonly traceId: string; readonly spanId: string }[];
  readonly status: 'unset' | 'ok' | 'error';
}

export interface OtlpCollector {
  /** For `OTEL_EXPORTER_OTLP_ENDPOINT`: the exporters add `/v1/traces`. */
  readonly url: string;
  /** Every span received so far, in arrival order. */
  readonly spans: CollectedSpan[];
  /** Exports refused (not JSON, e.g. protobuf), with why: a test should expect none. */
  readonly refused: string[];
  close(): Promise<void>;
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
const STATUSES = ['unset', 'ok', 'error'] as const;

/** Starts a trace store on a free loopback port. */
export async function otlpCollector(): Promise<OtlpCollector> {
  const spans: CollectedSpan[] = [];
  const refused: string[] = [];
  const server = createServer((request, response) => {
    void readBody(request).then((body) => {
      const type = request.headers['content-type'] ?? '';
      if (request.method !== 'POST' || request.url !== '/v1/traces' || !type.startsWith('application/json')) {
        refused.push(`${request.method} ${request.url} (${type})`);
        response.writeHead(415, { 'content-type': 'text/plain' }).end('this collector takes OTLP/HTTP JSON traces only');
        return;
      }
      spans.push(...readExport(JSON.parse(body.toString('utf8')) as OtlpExport));
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    }, (error: unknown) => {
      refused.push(String(error));
      response.writeHead(400).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    refused,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  return request.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body;
}

// The OTLP JSON encoding (opentelemetry-proto, `ExportTraceServiceRequest`), as far as a test reads it.
interface OtlpExport {
  resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}
interface OtlpAttribute { key: string; value?: OtlpValue }
interface OtlpValue { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number; [other: string]: unknown }
interface OtlpSpan {
  traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number;
  attributes?: OtlpAttribute[]; links?: { traceId: string; spanId: string }[]; status?: { code?: number };
}

function readExport(request: OtlpExport): CollectedSpan[] {
  return (request.resourceSpans ?? []).flatMap((resourceSpans) => {
    const service = String(attributesOf(resourceSpans.resource?.attributes)['service.name'] ?? '');
    return (resourceSpans.scopeSpans ?? []).flatMap((scope) => (scope.spans ?? []).map((span): CollectedSpan => ({
      service,
      traceId: span.traceId,
      spanId: span.spanId,
      parentSpanId: span.parentSpanId ? span.parentSpanId : undefined,
      name: span.name,
      kind: KINDS[span.kind ?? 0] ?? 'unspecified',
      attributes: attributesOf(span.attributes),
      links: (span.links ?? []).map((link) => ({ traceId: link.traceId, spanId: link.spanId })),
      status: STATUSES[span.status?.code ?? 0] ?? 'unset',
    })));
  });
}

function attributesOf(attributes: OtlpAttribute[] | undefined): Record<string, unknown> {
  return Object.fromEntries((attributes ?? []).map(({ key, value }) => [key, valueOf(value)]));
}

function valueOf(value: OtlpValue | undefined): unknown {
  if (value === undefined) return undefined;
  if (value.stringValue !== undefined) return value.stringValue;
  if (value.boolValue !== undefined) return value.boolValue;
  if (value.intValue !== undefined) return Number(value.intValue);
  if (value.doubleValue !== undefined) return value.doubleValue;
  return value; // arrays and maps stay as the exporter sent them
}
