import { ConfigProblems, HEARTBEAT, readCoreConfig, secretValues, TRACE_URL, type NightshiftConfig } from '@nightshift/core';
import { DATABASE_SCHEMA } from '@nightshift/store';
import { defaultManagementUrl } from './live/queue-rates.ts';
import {
  API_TOKEN, DASHBOARD_USERS, HEALTH_API_SETTINGS, HEALTH_BACKLOG, HEALTH_BEAT_GRACE, HEALTH_DEAD_LETTERS, HEALTH_FAILURE_RATE,
  HEALTH_FAILURE_RATE_CRITICAL, HEALTH_MIN_RUNS, HEALTH_POLL, HEALTH_WINDOW, HISTORY_QUEUE_LENGTH, HISTORY_RETENTION, HTTP_HOST, HTTP_PORT,
  RABBITMQ_MANAGEMENT_URL,
} from './settings.ts';

/** The health-api's metrics port unless `NIGHTSHIFT_METRICS_PORT` says otherwise. */
export const HEALTH_API_METRICS_PORT = 9467;

/** When `/health/background` turns degraded or critical. */
export interface HealthThresholds {
  /** `NIGHTSHIFT_HEALTH_BACKLOG`: messages waiting in one queue above which it is degraded. Default: `1000`. */
  readonly backlog: number;
  /** `NIGHTSHIFT_HEALTH_FAILURE_RATE`: share of finished runs that failed in the window above which it is degraded. Default: `0.2`. */
  readonly failureRate: number;
  /** `NIGHTSHIFT_HEALTH_FAILURE_RATE_CRITICAL`: the same, for critical. Default: `0.5`. */
  readonly failureRateCritical: number;
  /**
   * `NIGHTSHIFT_HEALTH_MIN_RUNS`: finished runs the window needs before its failure rate can make it degraded or
   * critical; below it the rate is too small a sample (5 of 10 failing is someone trying a task). Default: `20`.
   */
  readonly minRuns: number;
  /** `NIGHTSHIFT_HEALTH_WINDOW`: the window of the failure rate. Default: `5m`. */
  readonly windowMs: number;
  /** `NIGHTSHIFT_HEALTH_DEAD_LETTERS`: dead letters pending review at or above which it is degraded (`0`: never). Default: `1`. */
  readonly deadLetters: number;
  /** `NIGHTSHIFT_HEALTH_BEAT_GRACE`: how late a scheduled run may be dispatched before beat counts as degraded. Default: `1m`. */
  readonly beatGraceMs: number;
}

/** Everything the health-api reads from the environment (declared in settings.ts), validated. */
export interface HealthApiConfig {
  readonly core: NightshiftConfig;
  /** `NIGHTSHIFT_DATABASE_SCHEMA`. Default: `nightshift`. */
  readonly schema: string;
  /** `NIGHTSHIFT_HTTP_PORT`. Default: `5555`. */
  readonly httpPort: number;
  /** `NIGHTSHIFT_HTTP_HOST`. Default: `0.0.0.0` with credentials configured, else `127.0.0.1` (and a warning). */
  readonly httpHost: string;
  /** `NIGHTSHIFT_METRICS_PORT`, else 9467. */
  readonly metricsPort: number;
  /** `NIGHTSHIFT_HISTORY_RETENTION`: runs not updated for this long are deleted. Default: `7d`. */
  readonly retentionMs: number;
  /** `NIGHTSHIFT_HISTORY_QUEUE_LENGTH`: events the recorder's queue holds while no recorder runs (oldest dropped). Default: `1000000`. */
  readonly historyQueueLength: number;
  /** `NIGHTSHIFT_HEARTBEAT`: the workers' heartbeat interval; a worker is offline after 3 missed. Default: `5s`. */
  readonly heartbeatMs: number;
  /** `NIGHTSHIFT_HEALTH_POLL`: how often queue depths, counts and a ping are refreshed. Default: `5s`. */
  readonly pollMs: number;
  /** `NIGHTSHIFT_DASHBOARD_USERS`: `name:password` pairs, comma-separated. Default: none. */
  readonly users: ReadonlyMap<string, string>;
  /** `NIGHTSHIFT_API_TOKEN`: accepted as `Authorization: Bearer <token>`. Default: none. */
  readonly apiToken: string | undefined;
  /** `NIGHTSHIFT_TRACE_URL`: trace links (`{traceId}` replaced, else appended). Default: no links. */
  readonly traceUrl: string | undefined;
  /**
   * `NIGHTSHIFT_RABBITMQ_MANAGEMENT_URL`: RabbitMQ's management API, for queue publish and deliver rates; `off`
   * estimates them instead. Default: the AMQP host on port 15672 with the AMQP credentials and vhost.
   */
  readonly rabbitmqManagement: { readonly url: string; readonly vhost: string } | null;
  readonly thresholds: HealthThresholds;
  /** What logs and pages must never show: dashboard passwords, the API token and every password in the configured URLs. */
  readonly secretValues: readonly string[];
}

/**
 * Reads the health-api's configuration from its declared settings (settings.ts). Every bad variable is reported
 * at once, each by name.
 * @throws ConfigError listing the variables at fault.
 */
export function loadHealthApiConfig(env: Readonly<Record<string, string | undefined>> = process.env): HealthApiConfig {
  const collected = new ConfigProblems(env);
  const core = readCoreConfig(collected);
  const users = collected.read(DASHBOARD_USERS) ?? new Map<string, string>();
  const apiToken = collected.read(API_TOKEN);
  const management = collected.read(RABBITMQ_MANAGEMENT_URL);
  const authConfigured = users.size > 0 || apiToken !== undefined;
  return collected.finish({
    core, users, apiToken,
    schema: collected.read(DATABASE_SCHEMA),
    traceUrl: collected.read(TRACE_URL),
    httpPort: collected.read(HTTP_PORT),
    httpHost: collected.read(HTTP_HOST) ?? (authConfigured ? '0.0.0.0' : '127.0.0.1'),
    metricsPort: core.metricsPort ?? HEALTH_API_METRICS_PORT,
    retentionMs: collected.read(HISTORY_RETENTION),
    historyQueueLength: collected.read(HISTORY_QUEUE_LENGTH),
    heartbeatMs: collected.read(HEARTBEAT),
    pollMs: collected.read(HEALTH_POLL),
    rabbitmqManagement: managementApi(management, core.amqpUrl),
    thresholds: Object.freeze({
      backlog: collected.read(HEALTH_BACKLOG),
      failureRate: collected.read(HEALTH_FAILURE_RATE),
      failureRateCritical: collected.read(HEALTH_FAILURE_RATE_CRITICAL),
      minRuns: collected.read(HEALTH_MIN_RUNS),
      windowMs: collected.read(HEALTH_WINDOW),
      deadLetters: collected.read(HEALTH_DEAD_LETTERS),
      beatGraceMs: collected.read(HEALTH_BEAT_GRACE),
    }),
    secretValues: Object.freeze(secretValues(HEALTH_API_SETTINGS, env)),
  });
}

/** The configured management API (`null`: `off`), else RabbitMQ's default beside the broker; the vhost is the broker's. */
function managementApi(configured: string | null | undefined, amqpUrl: string): HealthApiConfig['rabbitmqManagement'] {
  const beside = defaultManagementUrl(amqpUrl);
  if (configured === undefined) return beside;
  return configured === null ? null : { url: configured, vhost: beside.vhost };
}
