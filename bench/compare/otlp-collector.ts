// An OTLP/HTTP trace collector inside the bench process: it takes the export POSTs of
// `@opentelemetry/exporter-trace-otlp-http` (JSON to /v1/traces), answers them as a collector does, and counts
// the spans by name, so the tracing figure can say every span arrived.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

interface ExportRequest {
  readonly resourceSpans?: ReadonlyArray<{ readonly scopeSpans?: ReadonlyArray<{ readonly spans?: ReadonlyArray<{ readonly name?: string }> }> }>;
}

/** A collector listening on 127.0.0.1. */
export interface OtlpCollector {
  /** For `OTEL_EXPORTER_OTLP_ENDPOINT`: the exporter adds `/v1/traces`. */
  readonly endpoint: string;
  /** Spans received since the last `reset`, by the first word of their name (`process`, `send`, …). */
  readonly spans: Map<string, number>;
  /** Export requests received since the last `reset`. */
  readonly requests: number;
  reset(): void;
  close(): Promise<void>;
}

function body(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

export async function startOtlpCollector(): Promise<OtlpCollector> {
  const spans = new Map<string, number>();
  let requests = 0;
  const server = createServer((request, response) => {
    void (async () => {
      const text = await body(request);
      if (request.method !== 'POST' || request.url !== '/v1/traces' || !String(request.headers['content-type']).startsWith('application/json')) {
        response.writeHead(400).end();
        throw new Error(`collector: unexpected ${request.method} ${request.url} (${request.headers['content-type']})`);
      }
      requests += 1;
      const exported = JSON.parse(text) as ExportRequest;
      for (const resource of exported.resourceSpans ?? []) {
        for (const scope of resource.scopeSpans ?? []) {
          for (const span of scope.spans ?? []) {
            const kind = (span.name ?? '').split(' ')[0] ?? '';
            spans.set(kind, (spans.get(kind) ?? 0) + 1);
          }
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    })().catch((error: unknown) => console.error((error as Error).message));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    get requests() { return requests; },
    reset() {
      spans.clear();
      requests = 0;
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
