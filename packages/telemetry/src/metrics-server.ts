import type { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The HTTP server of one process's Prometheus `/metrics`. */
export interface MetricsServer {
  /** The port actually bound (a free one when `0` was asked for). */
  readonly port: number;
  /** Where Prometheus (or a test) can scrape, e.g. `http://127.0.0.1:9464/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

export const METRICS_PATH = '/metrics';

/**
 * The port of `/metrics` is taken: most often by a second process of the same service on one host (two beats
 * for failover). Its message says which setting to change; a restart cannot fix it. Internal to telemetry:
 * `startServiceTelemetry` turns it into one line and exit 2; outside a service it is an ordinary failure.
 */
export class MetricsPortInUseError extends Error {
  readonly port: number;

  constructor(port: number, host: string | undefined, cause: unknown) {
    super(`cannot serve ${METRICS_PATH} on ${host ?? 'all interfaces'}, port ${port}: the port is in use (EADDRINUSE), most likely by another Nightshift process on this host; set NIGHTSHIFT_METRICS_PORT to a free port, or to 0 for any free one`, { cause });
    this.name = 'MetricsPortInUseError';
    this.port = port;
  }
}

/**
 * Serves `exporter`'s metrics on `GET /metrics`. The exporter's own server cannot bind port 0 and does
 * not tell which port it bound, so it is built with `preventServerStart` and served from here instead.
 * The server is unref'd: scraping never keeps a process alive that has nothing else to do.
 * @throws MetricsPortInUseError when the port is taken; Error naming host and port when it cannot be bound otherwise (no permission).
 */
export async function serveMetrics(exporter: PrometheusExporter, port: number, host: string | undefined): Promise<MetricsServer> {
  const server = createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== METRICS_PATH) {
      response.statusCode = 404;
      response.end(`not found; metrics are at ${METRICS_PATH}\n`);
      return;
    }
    exporter.getMetricsRequestHandler(request, response);
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE') throw new MetricsPortInUseError(port, host, error);
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`startTelemetry: cannot serve ${METRICS_PATH} on ${host ?? 'all interfaces'}, port ${port}: ${reason} (choose another metricsPort, or 0 for a free one)`, { cause: error });
  }
  server.unref();
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    port: bound,
    url: `http://${urlHost(host)}:${bound}${METRICS_PATH}`,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

// A wildcard address is not somewhere to connect to; loopback reaches it from this host.
function urlHost(host: string | undefined): string {
  if (host === undefined || host === '' || host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
