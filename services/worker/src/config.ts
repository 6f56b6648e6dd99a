import { ConfigProblems, HEARTBEAT, readCoreConfig, type NightshiftConfig } from '@nightshift/core';
import type { PoolBounds } from './pool-control.ts';
import {
  COMPLETION_LEASE, COMPLETION_RECORDS, COMPLETION_TIMEOUT, COMPLETION_TTL, CONSUMER_TIMEOUT, RETRY_RESCUE_AFTER, WORKER_AUTOSCALE, WORKER_AUTOSCALE_KEEPALIVE, WORKER_CONCURRENCY, WORKER_GRACE, WORKER_PREFETCH,
} from './settings.ts';

/** The worker's metrics port unless `NIGHTSHIFT_METRICS_PORT` says otherwise. */
export const WORKER_METRICS_PORT = 9464;

/** Everything the worker reads from the environment (declared in settings.ts), validated; flags may override some. */
export interface WorkerConfig {
  readonly core: NightshiftConfig;
  /** `NIGHTSHIFT_WORKER_CONCURRENCY`. Default: none (the CPU count, unless `--concurrency`). */
  readonly concurrency: number | undefined;
  /** `NIGHTSHIFT_WORKER_AUTOSCALE`: the bounds the pool follows the load within. Default: none (a fixed pool). */
  readonly autoscale: PoolBounds | undefined;
  /** `NIGHTSHIFT_WORKER_AUTOSCALE_KEEPALIVE`. Default: `30s`. */
  readonly autoscaleKeepaliveMs: number;
  /** `NIGHTSHIFT_WORKER_PREFETCH`: messages each consumer holds per sandbox of the starting pool. Default: 16. */
  readonly prefetchPerSandbox: number;
  /** `NIGHTSHIFT_WORKER_GRACE`. Default: `30s`. */
  readonly graceMs: number;
  /** `NIGHTSHIFT_HEARTBEAT`. Default: `5s`. */
  readonly heartbeatMs: number;
  /** `NIGHTSHIFT_CONSUMER_TIMEOUT`. Default: `30m`, RabbitMQ's. */
  readonly consumerTimeoutMs: number;
  /** `NIGHTSHIFT_METRICS_PORT`, else 9464. */
  readonly metricsPort: number;
  /** `NIGHTSHIFT_COMPLETION_RECORDS`: completion records in Redis. Default: on. */
  readonly completionRecords: boolean;
  /** `NIGHTSHIFT_COMPLETION_TTL`: the least a completion record is kept. Default: `24h`. */
  readonly completionTtlMs: number;
  /** `NIGHTSHIFT_COMPLETION_TIMEOUT`: how long one completion check or write waits for Redis. Default: `250ms`. */
  readonly completionTimeoutMs: number;
  /** `NIGHTSHIFT_COMPLETION_LEASE`: the lease of a running attempt's claim. Default: `15s`. */
  readonly completionLeaseMs: number;
  /** `NIGHTSHIFT_RETRY_RESCUE_AFTER`: how long past its time a retry that has not started is sent again. Default: `15s`. */
  readonly retryRescueAfterMs: number;
}

/**
 * Reads the worker's configuration. Every bad variable is reported at once, each by name.
 * @throws ConfigError listing the variables at fault.
 */
export function loadWorkerConfig(env: Readonly<Record<string, string | undefined>> = process.env): WorkerConfig {
  const collected = new ConfigProblems(env);
  const core = readCoreConfig(collected);
  return collected.finish({
    core,
    concurrency: collected.read(WORKER_CONCURRENCY),
    autoscale: collected.read(WORKER_AUTOSCALE),
    autoscaleKeepaliveMs: collected.read(WORKER_AUTOSCALE_KEEPALIVE),
    prefetchPerSandbox: collected.read(WORKER_PREFETCH),
    graceMs: collected.read(WORKER_GRACE),
    heartbeatMs: collected.read(HEARTBEAT),
    consumerTimeoutMs: collected.read(CONSUMER_TIMEOUT),
    metricsPort: core.metricsPort ?? WORKER_METRICS_PORT,
    completionRecords: collected.read(COMPLETION_RECORDS),
    completionTtlMs: collected.read(COMPLETION_TTL),
    completionTimeoutMs: collected.read(COMPLETION_TIMEOUT),
    completionLeaseMs: collected.read(COMPLETION_LEASE),
    retryRescueAfterMs: collected.read(RETRY_RESCUE_AFTER),
  });
}
