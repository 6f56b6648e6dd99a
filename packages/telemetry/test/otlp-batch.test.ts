import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startTelemetry } from '@nightshift/telemetry';

// A file of its own: telemetry starts once per process.
test('OTEL_BSP_MAX_EXPORT_BATCH_SIZE caps the spans of one OTLP export', async () => {
  const batches: number[] = [];
  const collector = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      const spans = (JSON.parse(body) as { resourceSpans: { scopeSpans: { spans: unknown[] }[] }[] }).resourceSpans
        .flatMap((resource) => resource.scopeSpans.flatMap((scope) => scope.spans));
      batches.push(spans.length);
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE = '2';
  try {
    const telemetry = await startTelemetry({ service: 'otlp-batch-test', metricsPort: 0, logLevel: 'silent' });
    for (let i = 0; i < 5; i++) telemetry.tracer.startSpan(`span ${i}`).end();
    await telemetry.shutdown();

    assert.equal(batches.reduce((sum, n) => sum + n, 0), 5, `every span exported: ${JSON.stringify(batches)}`);
    assert.ok(batches.every((n) => n <= 2), `no export above 2 spans: ${JSON.stringify(batches)}`);
  } finally {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_BSP_MAX_EXPORT_BATCH_SIZE;
    collector.close();
  }
});
