import { ConfigError, ConfigProblems, parseDuration, type NightshiftConfig } from '@nightshift/core';
import { defaultManagementUrl } from './live/queue-rates.ts';

/** The health-api's HTTP port unless `NIGHTSHIFT_HTTP_PORT` says otherwise: where Flower users look. */
export const HEALTH_API_HTTP_PORT = 5555;
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

/** Everything the health-api reads from the environment, validated. */
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
}

/**
 * Reads the health-api's configuration. Every bad variable is reported at once, each by name.
 * @throws ConfigError listing the variables at fault.
 */
export function loadHealthApiConfig(env: Readonly<Record<string, string | undefined>> = process.env): HealthApiConfig {
  const collected: ConfigProblems = new ConfigProblems(env); // typed, so `collected.fail()` narrows
  const { problems } = collected;
  const core = collected.readCore();
  const read = <T>(name: string, fallback: T, parse: (raw: string) => T): T => collected.read(name, fallback, parse);
  const integer = (name: string, min: number, max: number) => (raw: string): number => {
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new ConfigError(`${name}: ${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`);
    return Number(raw);
  };
  const ratio = (name: string) => (raw: string): number => {
    const value = Number(raw);
    if (!/^\d*\.?\d+$/.test(raw) || value > 1) throw new ConfigError(`${name}: ${JSON.stringify(raw)} must be a number from 0 to 1`);
    return value;
  };
  const duration = (name: string, minMs: number) => (raw: string): number => {
    const ms = parseDuration(raw, name);
    if (ms < minMs) throw new ConfigError(`${name}: must be at least ${minMs}ms`);
    return ms;
  };
  const users = read('NIGHTSHIFT_DASHBOARD_USERS', new Map<string, string>(), (raw) => {
    const map = new Map<string, string>();
    for (const pair of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
      const colon = pair.indexOf(':');
      if (colon <= 0 || colon === pair.length - 1) throw new ConfigError('NIGHTSHIFT_DASHBOARD_USERS: each entry must be name:password (comma-separated)');
      map.set(pair.slice(0, colon), pair.slice(colon + 1));
    }
    return map;
  });
  const apiToken = read<string | undefined>('NIGHTSHIFT_API_TOKEN', undefined, (raw) => {
    if (raw.length < 16) throw new ConfigError('NIGHTSHIFT_API_TOKEN: must be at least 16 characters');
    return raw;
  });
  const traceUrl = read<string | undefined>('NIGHTSHIFT_TRACE_URL', undefined, (raw) => {
    if (!/^https?:$/.test(new URL(raw).protocol)) throw new ConfigError('NIGHTSHIFT_TRACE_URL: must be an http or https URL');
    return raw;
  });
  const rabbitmqManagement = read<{ url: string; vhost: string } | null | undefined>('NIGHTSHIFT_RABBITMQ_MANAGEMENT_URL', undefined, (raw) => {
    if (raw === 'off') return null;
    if (!/^https?:$/.test(new URL(raw).protocol)) throw new ConfigError('NIGHTSHIFT_RABBITMQ_MANAGEMENT_URL: must be an http or https URL, or off');
    return { url: raw, vhost: core === undefined ? '/' : defaultManagementUrl(core.amqpUrl).vhost };
  });
  const schema = read('NIGHTSHIFT_DATABASE_SCHEMA', 'nightshift', (raw) => {
    if (!/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/.test(raw)) throw new ConfigError(`NIGHTSHIFT_DATABASE_SCHEMA: ${JSON.stringify(raw)} must start with a letter or _ and hold only letters, digits, _ or -`);
    return raw;
  });
  const authConfigured = users.size > 0 || apiToken !== undefined;
  const thresholds: HealthThresholds = {
    backlog: read('NIGHTSHIFT_HEALTH_BACKLOG', 1000, integer('NIGHTSHIFT_HEALTH_BACKLOG', 1, 1e9)),
    failureRate: read('NIGHTSHIFT_HEALTH_FAILURE_RATE', 0.2, ratio('NIGHTSHIFT_HEALTH_FAILURE_RATE')),
    failureRateCritical: read('NIGHTSHIFT_HEALTH_FAILURE_RATE_CRITICAL', 0.5, ratio('NIGHTSHIFT_HEALTH_FAILURE_RATE_CRITICAL')),
    minRuns: read('NIGHTSHIFT_HEALTH_MIN_RUNS', 20, integer('NIGHTSHIFT_HEALTH_MIN_RUNS', 1, 1e9)),
    windowMs: read('NIGHTSHIFT_HEALTH_WINDOW', 300_000, duration('NIGHTSHIFT_HEALTH_WINDOW', 1_000)),
    deadLetters: read('NIGHTSHIFT_HEALTH_DEAD_LETTERS', 1, integer('NIGHTSHIFT_HEALTH_DEAD_LETTERS', 0, 1e9)),
    beatGraceMs: read('NIGHTSHIFT_HEALTH_BEAT_GRACE', 60_000, duration('NIGHTSHIFT_HEALTH_BEAT_GRACE', 1_000)),
  };
  const config = {
    schema, users, apiToken, traceUrl, thresholds,
    httpPort: read('NIGHTSHIFT_HTTP_PORT', HEALTH_API_HTTP_PORT, integer('NIGHTSHIFT_HTTP_PORT', 0, 65535)),
    httpHost: read('NIGHTSHIFT_HTTP_HOST', authConfigured ? '0.0.0.0' : '127.0.0.1', (raw) => raw),
    retentionMs: read('NIGHTSHIFT_HISTORY_RETENTION', 7 * 86_400_000, duration('NIGHTSHIFT_HISTORY_RETENTION', 60_000)),
    historyQueueLength: read('NIGHTSHIFT_HISTORY_QUEUE_LENGTH', 1_000_000, integer('NIGHTSHIFT_HISTORY_QUEUE_LENGTH', 1000, 1e9)),
    heartbeatMs: read('NIGHTSHIFT_HEARTBEAT', 5_000, duration('NIGHTSHIFT_HEARTBEAT', 100)),
    pollMs: read('NIGHTSHIFT_HEALTH_POLL', 5_000, duration('NIGHTSHIFT_HEALTH_POLL', 100)),
  };
  if (problems.length > 0 || core === undefined) collected.fail();
  return Object.freeze({
    ...config, core, metricsPort: core.metricsPort ?? HEALTH_API_METRICS_PORT,
    rabbitmqManagement: rabbitmqManagement === undefined ? defaultManagementUrl(core.amqpUrl) : rabbitmqManagement,
  });
}

/** Values never to show: dashboard passwords, the API token and every password in the configured URLs. */
export function secretValues(config: HealthApiConfig): string[] {
  const secrets: string[] = [...config.users.values()];
  if (config.apiToken) secrets.push(config.apiToken);
  for (const raw of [config.core.databaseUrl, config.core.amqpUrl, config.core.redisUrl, config.rabbitmqManagement?.url ?? '']) {
    if (raw === '') continue;
    const password = new URL(raw).password;
    if (password !== '') secrets.push(password, decodeURIComponent(password));
  }
  return [...new Set(secrets)].filter((secret) => secret.length >= 4);
}
