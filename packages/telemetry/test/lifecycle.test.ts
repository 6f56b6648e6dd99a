import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { startTelemetry, type ReadableSpan, type SpanExporter } from '@nightshift/telemetry';
import { MetricsPortInUseError } from '../src/metrics-server.ts';

/** An exporter that takes its time, as a collector over the network does, and keeps what it got. */
class SlowExporter implements SpanExporter {
  readonly exported: string[] = [];
  readonly events: string[] = [];

  export(spans: ReadableSpan[], done: (result: ExportResult) => void): void {
    setTimeout(() => {
      this.exported.push(...spans.map((span) => span.name));
      this.events.push('exported');
      done({ code: ExportResultCode.SUCCESS });
    }, 100);
  }

  async shutdown(): Promise<void> {
    this.events.push('shutdown');
  }
}

// Runs first: these failures must leave the process free to start telemetry afterwards.
test('invalid options and a busy port fail clearly, before anything is registered', async () => {
  await assert.rejects(startTelemetry({ service: '' }), /startTelemetry: service must be a non-empty string/);
  await assert.rejects(startTelemetry({ service: 'x', metricsPort: 70_000 }), /startTelemetry: metricsPort 70000 must be a whole number from 0 to 65535/);
  await assert.rejects(startTelemetry({ service: 'x', metricsPort: 0, logLevel: 'loud' }), /level "loud"/);

  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const { port } = blocker.address() as { port: number };
  try {
    await assert.rejects(startTelemetry({ service: 'x', metricsPort: port, metricsHost: '127.0.0.1' }), (error: unknown) => {
      assert.ok(error instanceof MetricsPortInUseError);
      assert.equal(error.port, port);
      assert.match(error.message, new RegExp(`^cannot serve /metrics on 127\\.0\\.0\\.1, port ${port}: the port is in use \\(EADDRINUSE\\).*; set NIGHTSHIFT_METRICS_PORT to a free port, or to 0 for any free one$`));
      return true;
    });
  } finally {
    blocker.close();
  }
});

test('shutdown flushes a span ended just before it, closes /metrics, and is idempotent', async () => {
  const exporter = new SlowExporter();
  const telemetry = await startTelemetry({ service: 'lifecycle-test', metricsPort: 0, metricsHost: '127.0.0.1', logLevel: 'silent', spanExporter: exporter });
  assert.equal((await fetch(telemetry.metricsUrl)).status, 200);

  telemetry.tracer.startSpan('last words').end();
  const first = telemetry.shutdown();
  assert.equal(telemetry.shutdown(), first, 'a second call joins the first');
  await first;

  assert.deepEqual(exporter.exported, ['last words']);
  assert.deepEqual(exporter.events, ['exported', 'shutdown'], 'the export finished before the exporter was shut down');
  await assert.rejects(fetch(telemetry.metricsUrl), 'the metrics server is closed');
  await telemetry.shutdown();
});

test('a second start in the same process fails clearly, even after shutdown', async () => {
  await assert.rejects(
    startTelemetry({ service: 'again', metricsPort: 0 }),
    /startTelemetry: telemetry was already started in this process \(service "lifecycle-test"\); start it once and share the Telemetry object/,
  );
});
