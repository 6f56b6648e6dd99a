import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startTelemetry } from '@nightshift/telemetry';

test('with OTEL_EXPORTER_OTLP_ENDPOINT set, spans are sent there over OTLP/HTTP by shutdown at the latest', async () => {
  const received: { path: string; body: string }[] = [];
  const collector = createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  try {
    const telemetry = await startTelemetry({ service: 'otlp-test', metricsPort: 0, logLevel: 'silent' });
    telemetry.tracer.startSpan('dispatch nightly-report').end();
    await telemetry.shutdown();

    const traces = received.filter((request) => request.path === '/v1/traces');
    assert.equal(traces.length, 1, `collector got: ${JSON.stringify(received.map((request) => request.path))}`);
    assert.match(traces[0]?.body ?? '', /dispatch nightly-report/);
    assert.match(traces[0]?.body ?? '', /otlp-test/);
  } finally {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    collector.close();
  }
});
