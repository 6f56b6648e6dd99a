import { closest } from './did-you-mean.ts';

/**
 * Every `NIGHTSHIFT_*` variable some part of Nightshift reads (a test keeps this list complete). A name not
 * here is a typo or a setting of another version: it is reported, never silently ignored.
 */
export const NIGHTSHIFT_SETTINGS: readonly string[] = Object.freeze([
  // every process
  'NIGHTSHIFT_AMQP_URL', 'NIGHTSHIFT_REDIS_URL', 'NIGHTSHIFT_DATABASE_URL', 'NIGHTSHIFT_DATABASE_SCHEMA', 'NIGHTSHIFT_PREFIX',
  'NIGHTSHIFT_PUBLISH_TIMEOUT', 'NIGHTSHIFT_DELIVERY_LIMIT', 'NIGHTSHIFT_RETRY_LADDER', 'NIGHTSHIFT_LOG_LEVEL',
  'NIGHTSHIFT_METRICS_PORT', 'NIGHTSHIFT_REDACT', 'NIGHTSHIFT_DEBUG',
  // nightshift up
  'NIGHTSHIFT_WORKER_METRICS_PORT', 'NIGHTSHIFT_BEAT_METRICS_PORT', 'NIGHTSHIFT_ALERTER_METRICS_PORT', 'NIGHTSHIFT_HEALTH_API_METRICS_PORT',
  'NIGHTSHIFT_SERVICES',
  // worker
  'NIGHTSHIFT_WORKER_GRACE', 'NIGHTSHIFT_WORKER_CONCURRENCY', 'NIGHTSHIFT_CONSUMER_TIMEOUT', 'NIGHTSHIFT_HEARTBEAT',
  // alerter
  'NIGHTSHIFT_SLACK_WEBHOOK_URL', 'NIGHTSHIFT_SMTP_URL', 'NIGHTSHIFT_ALERT_EMAIL_FROM', 'NIGHTSHIFT_ALERT_EMAIL_TO',
  'NIGHTSHIFT_ALERT_WINDOW', 'NIGHTSHIFT_ALERT_RATE_LIMIT', 'NIGHTSHIFT_DASHBOARD_URL', 'NIGHTSHIFT_TRACE_URL',
  // health-api
  'NIGHTSHIFT_HTTP_PORT', 'NIGHTSHIFT_HTTP_HOST', 'NIGHTSHIFT_DASHBOARD_USERS', 'NIGHTSHIFT_API_TOKEN',
  'NIGHTSHIFT_HISTORY_RETENTION', 'NIGHTSHIFT_HISTORY_QUEUE_LENGTH', 'NIGHTSHIFT_HEALTH_POLL', 'NIGHTSHIFT_HEALTH_BACKLOG',
  'NIGHTSHIFT_HEALTH_FAILURE_RATE', 'NIGHTSHIFT_HEALTH_FAILURE_RATE_CRITICAL', 'NIGHTSHIFT_HEALTH_MIN_RUNS',
  'NIGHTSHIFT_HEALTH_WINDOW', 'NIGHTSHIFT_HEALTH_DEAD_LETTERS', 'NIGHTSHIFT_HEALTH_BEAT_GRACE', 'NIGHTSHIFT_RABBITMQ_MANAGEMENT_URL',
]);

/** A `NIGHTSHIFT_*` variable no part of Nightshift reads, with the known one it most likely meant. */
export interface UnknownSetting {
  readonly name: string;
  readonly didYouMean: string | undefined;
}

/** The `NIGHTSHIFT_*` variables of `env` that Nightshift does not read: typos, most likely (`NIGHTSHIFT_PREFX`). */
export function unknownSettings(env: Readonly<Record<string, string | undefined>>): UnknownSetting[] {
  const known = new Set(NIGHTSHIFT_SETTINGS);
  return Object.keys(env)
    .filter((name) => name.startsWith('NIGHTSHIFT_') && !known.has(name))
    .sort()
    .map((name) => ({ name, didYouMean: closest(name, NIGHTSHIFT_SETTINGS) }));
}

/** One line per unknown setting, for a service's start-up warning: `NIGHTSHIFT_PREFX is not a Nightshift setting (did you mean NIGHTSHIFT_PREFIX?)`. */
export function describeUnknownSettings(env: Readonly<Record<string, string | undefined>>): string[] {
  return unknownSettings(env).map(({ name, didYouMean }) =>
    `${name} is not a Nightshift setting and is ignored${didYouMean ? ` (did you mean ${didYouMean}?)` : ''}`);
}
