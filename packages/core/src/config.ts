import { ConfigProblems } from './config-problems.ts';
import type { LogLevel } from './logger.ts';
import {
  AMQP_URL, DATABASE_URL, DELIVERY_LIMIT, LOG_LEVEL, METRICS_PORT, PREFIX, PUBLISH_TIMEOUT, REDACT, REDIS_URL, RETRY_LADDER,
} from './core-settings.ts';

/** Process-wide settings, read from `NIGHTSHIFT_*` environment variables (declared in core-settings.ts). */
export interface NightshiftConfig {
  /**
   * `NIGHTSHIFT_AMQP_URL`: one AMQP URL, or the nodes of a cluster separated by commas (`parseBrokerUrls`).
   * Default: `amqp://guest:guest@127.0.0.1:5672`.
   */
  readonly amqpUrl: string;
  /** `NIGHTSHIFT_REDIS_URL`. Default: `redis://127.0.0.1:6379`. */
  readonly redisUrl: string;
  /** `NIGHTSHIFT_DATABASE_URL`. Default: `postgres://postgres@127.0.0.1:5432/postgres`. */
  readonly databaseUrl: string;
  /** `NIGHTSHIFT_PREFIX`: prefixes every broker object and Redis key. Default: `nightshift`. */
  readonly prefix: string;
  /** `NIGHTSHIFT_PUBLISH_TIMEOUT`: how long a publish waits for the broker (outage, flow control) before it fails. Default: `30s`. */
  readonly publishTimeoutMs: number;
  /** `NIGHTSHIFT_DELIVERY_LIMIT`: deliveries of one message before the broker dead-letters it as poison. Default: `5`. */
  readonly deliveryLimit: number;
  /** `NIGHTSHIFT_RETRY_LADDER`: the wait steps of the retry ladder, comma-separated durations. Default: `1s,5s,30s,2m,10m,1h`. */
  readonly retryLadderMs: readonly number[];
  /** `NIGHTSHIFT_LOG_LEVEL`: `trace`, `debug`, `info`, `warn`, `error`, `fatal` or `silent`. Default: `info`. */
  readonly logLevel: LogLevel;
  /** `NIGHTSHIFT_METRICS_PORT`: the port of this process's `/metrics`; `0` picks a free one. Default: the service's own port. */
  readonly metricsPort: number | undefined;
  /** `NIGHTSHIFT_REDACT`: extra key names to redact from logs and alerts, comma-separated. */
  readonly redactKeys: readonly string[];
}

/**
 * Reads the settings every process shares into `collected`, whose problems a service reports with its own.
 * Where a variable is bad, its default stands in; `collected.finish` then refuses the whole.
 */
export function readCoreConfig(collected: ConfigProblems): NightshiftConfig {
  return Object.freeze({
    amqpUrl: collected.read(AMQP_URL),
    redisUrl: collected.read(REDIS_URL),
    databaseUrl: collected.read(DATABASE_URL),
    prefix: collected.read(PREFIX),
    publishTimeoutMs: collected.read(PUBLISH_TIMEOUT),
    deliveryLimit: collected.read(DELIVERY_LIMIT),
    retryLadderMs: collected.read(RETRY_LADDER),
    logLevel: collected.read(LOG_LEVEL),
    metricsPort: collected.read(METRICS_PORT),
    redactKeys: collected.read(REDACT) ?? [],
  });
}

/**
 * Reads and validates the shared configuration. Every problem is reported at once, each naming its variable.
 * @throws ConfigError listing the variables at fault.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): NightshiftConfig {
  const collected = new ConfigProblems(env);
  return collected.finish(readCoreConfig(collected));
}
