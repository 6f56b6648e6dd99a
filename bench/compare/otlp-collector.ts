// An OTLP/HTTP trace collector inside the bench process: it takes the export POSTs to /v1/traces (JSON, or
// protobuf), answers them as a collector does, and counts the spans by name, so the tracing figure can say every
// span arrived.
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

function body(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/** The fields of one protobuf message, each with its bytes when it is length-delimited (a message, a string). */
function* protobufFields(buffer: Uint8Array): Generator<readonly [number, Uint8Array | undefined]> {
  let at = 0;
  const varint = () => {
    let value = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = buffer[at++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
    }
  };
  while (at < buffer.length) {
    const key = varint();
    const [field, wire] = [Math.floor(key / 8), key % 8];
    if (wire === 2) {
      const length = varint();
      yield [field, buffer.subarray(at, at + length)];
      at += length;
      continue;
    }
    if (wire === 0) varint();
    else if (wire === 1) at += 8;
    else if (wire === 5) at += 4;
    else throw new Error(`collector: protobuf wire type ${wire}`);
    yield [field, undefined];
  }
}

/** Span names of an ExportTraceServiceRequest: resource_spans (1) → scope_spans (2) → spans (2) → name (5). */
function protobufSpanNames(request: Uint8Array): string[] {
  const names: string[] = [];
  const within = (message: Uint8Array, field: number) => [...protobufFields(message)].flatMap(([f, bytes]) => (f === field && bytes ? [bytes] : []));
  for (const resource of within(request, 1)) {
    for (const scope of within(resource, 2)) {
      for (const span of within(scope, 2)) names.push(Buffer.from(within(span, 5)[0] ?? new Uint8Array()).toString('utf8'));
    }
  }
  return names;
}

function jsonSpanNames(request: ExportRequest): string[] {
  return (request.resourceSpans ?? []).flatMap((resource) => (resource.scopeSpans ?? []).flatMap((scope) => (scope.spans ?? []).map((span) => span.name ?? '')));
}

export async function startOtlpCollector(): Promise<OtlpCollector> {
  const spans = new Map<string, number>();
  let requests = 0;
  const server = createServer((request, response) => {
    void (async () => {
      const received = await body(request);
      const type = String(request.headers['content-type']);
      if (request.method !== 'POST' || request.url !== '/v1/traces' || !['application/json', 'application/x-protobuf'].some((t) => type.startsWith(t))) {
        response.writeHead(400).end();
        throw new Error(`collector: unexpected ${request.method} ${request.url} (${type})`);
      }
      requests += 1;
      const json = type.startsWith('application/json');
      const names = json ? jsonSpanNames(JSON.parse(received.toString('utf8')) as ExportRequest) : protobufSpanNames(received);
      for (const name of names) {
        const kind = name.split(' ')[0] ?? '';
        spans.set(kind, (spans.get(kind) ?? 0) + 1);
      }
      // An empty ExportTraceServiceResponse: `{}`, or no bytes at all in protobuf.
      response.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
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
