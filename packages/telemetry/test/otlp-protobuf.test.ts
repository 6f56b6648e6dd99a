import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startTelemetry } from '@nightshift/telemetry';

// A file of its own: telemetry starts once per process, and otlp.test.ts starts it with the JSON default.
test('with OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf, spans are sent over OTLP/HTTP as protobuf', async () => {
  const received: { path: string; type: string; body: Buffer }[] = [];
  const collector = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', type: String(request.headers['content-type']), body: Buffer.concat(chunks) });
      response.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/protobuf';
  try {
    const telemetry = await startTelemetry({ service: 'otlp-protobuf-test', metricsPort: 0, logLevel: 'silent' });
    telemetry.tracer.startSpan('dispatch nightly-report').end();
    await telemetry.shutdown();

    const traces = received.filter((request) => request.path === '/v1/traces');
    assert.equal(traces.length, 1, `collector got: ${JSON.stringify(received.map((request) => request.path))}`);
    assert.equal(traces[0]?.type, 'application/x-protobuf');
    const body = traces[0]?.body ?? Buffer.alloc(0);
    assert.throws(() => JSON.parse(body.toString('utf8')) as unknown, 'not JSON');
    // Protobuf carries strings as their UTF-8 bytes: the span's name and the service are in the body as they are.
    assert.ok(body.includes('dispatch nightly-report'), 'the span name is in the export');
    assert.ok(body.includes('otlp-protobuf-test'), 'the service name is in the export');
  } finally {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    collector.close();
  }
});
