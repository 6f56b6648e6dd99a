import { ConfigError, ConfigProblems, parseDuration, type NightshiftConfig } from '@nightshift/core';
import { parseRateLimit, DEFAULT_RATE_LIMIT, type RateLimit } from '@nightshift/alerts';

/** The alerter's metrics port unless `NIGHTSHIFT_METRICS_PORT` says otherwise. */
export const ALERTER_METRICS_PORT = 9466;

/** Everything the alerter reads from the environment, validated. */
export interface AlerterConfig {
  readonly core: NightshiftConfig;
  /** `NIGHTSHIFT_DATABASE_SCHEMA`: the schema of the store. Default: `nightshift`. */
  readonly schema: string;
  /** `NIGHTSHIFT_SLACK_WEBHOOK_URL`: Slack incoming webhook. Default: no Slack. */
  readonly slackWebhookUrl: string | undefined;
  /** `NIGHTSHIFT_SMTP_URL`, `NIGHTSHIFT_ALERT_EMAIL_FROM`, `NIGHTSHIFT_ALERT_EMAIL_TO` (comma-separated): all three, or none. */
  readonly email: { readonly smtpUrl: string; readonly from: string; readonly to: readonly string[] } | undefined;
  /** `NIGHTSHIFT_DASHBOARD_URL`: base of links to dead letters. Default: no links. */
  readonly dashboardUrl: string | undefined;
  /** `NIGHTSHIFT_TRACE_URL`: base of links to traces (`{traceId}` is replaced, else appended). Default: no links. */
  readonly traceUrl: string | undefined;
  /** `NIGHTSHIFT_ALERT_WINDOW`: how long a group collects more of the same failure before its summary. Default: `10m`. */
  readonly windowMs: number;
  /** `NIGHTSHIFT_ALERT_RATE_LIMIT`: per channel, `<count>/<duration>`. Default: `20/1m`. */
  readonly rateLimit: RateLimit;
  /** `NIGHTSHIFT_METRICS_PORT`, else 9466. */
  readonly metricsPort: number;
}

/**
 * Reads the alerter's configuration. Every bad variable is reported at once, each by name.
 * @throws ConfigError listing the variables at fault.
 */
export function loadAlerterConfig(env: Readonly<Record<string, string | undefined>> = process.env): AlerterConfig {
  const collected: ConfigProblems = new ConfigProblems(env); // typed, so `collected.fail()` narrows
  const { problems } = collected;
  const core = collected.readCore();
  const value = (name: string): string | undefined => collected.value(name);
  const url = (name: string, schemes: readonly string[]): string | undefined => {
    const raw = value(name);
    if (raw === undefined) return undefined;
    try {
      const parsed = new URL(raw);
      if (schemes.includes(parsed.protocol.replace(/:$/, ''))) return raw;
    } catch {
      // reported below
    }
    problems.push(`${name}: must be a ${schemes.join(' or ')} URL`);
    return undefined;
  };
  const slackWebhookUrl = url('NIGHTSHIFT_SLACK_WEBHOOK_URL', ['https', 'http']);
  const smtpUrl = url('NIGHTSHIFT_SMTP_URL', ['smtp', 'smtps']);
  const from = value('NIGHTSHIFT_ALERT_EMAIL_FROM');
  const to = value('NIGHTSHIFT_ALERT_EMAIL_TO')?.split(',').map((address) => address.trim()).filter(Boolean) ?? [];
  for (const [name, address] of [['NIGHTSHIFT_ALERT_EMAIL_FROM', from], ...to.map((a) => ['NIGHTSHIFT_ALERT_EMAIL_TO', a])] as const) {
    if (address !== undefined && !/^[^\s@<>]+@[^\s@<>]+$|<[^\s@<>]+@[^\s@<>]+>$/.test(address)) problems.push(`${name}: ${JSON.stringify(address)} is not an email address`);
  }
  const emailParts = { NIGHTSHIFT_SMTP_URL: value('NIGHTSHIFT_SMTP_URL'), NIGHTSHIFT_ALERT_EMAIL_FROM: from, NIGHTSHIFT_ALERT_EMAIL_TO: to.length > 0 ? 'set' : undefined };
  const missing = Object.entries(emailParts).filter(([, v]) => v === undefined).map(([k]) => k);
  if (missing.length > 0 && missing.length < 3) problems.push(`${missing.join(', ')}: email alerts need NIGHTSHIFT_SMTP_URL, NIGHTSHIFT_ALERT_EMAIL_FROM and NIGHTSHIFT_ALERT_EMAIL_TO together`);
  const dashboardUrl = url('NIGHTSHIFT_DASHBOARD_URL', ['http', 'https']);
  const traceUrl = url('NIGHTSHIFT_TRACE_URL', ['http', 'https']);
  const read = <T>(name: string, fallback: T, parse: (raw: string) => T): T => collected.read(name, fallback, parse);
  const windowMs = read('NIGHTSHIFT_ALERT_WINDOW', 600_000, (raw) => {
    const ms = parseDuration(raw, 'NIGHTSHIFT_ALERT_WINDOW');
    if (ms < 100) throw new ConfigError('NIGHTSHIFT_ALERT_WINDOW: must be at least 100ms');
    return ms;
  });
  const rateLimit = read('NIGHTSHIFT_ALERT_RATE_LIMIT', DEFAULT_RATE_LIMIT, (raw) => parseRateLimit(raw, 'NIGHTSHIFT_ALERT_RATE_LIMIT'));
  const schema = read('NIGHTSHIFT_DATABASE_SCHEMA', 'nightshift', (raw) => {
    if (!/^[A-Za-z_][A-Za-z0-9_-]{0,62}$/.test(raw)) throw new ConfigError(`NIGHTSHIFT_DATABASE_SCHEMA: ${JSON.stringify(raw)} must start with a letter or _ and hold only letters, digits, _ or -`);
    return raw;
  });
  if (problems.length > 0 || core === undefined) collected.fail();
  return Object.freeze({
    core, schema, slackWebhookUrl, dashboardUrl, traceUrl, windowMs, rateLimit,
    email: smtpUrl !== undefined && from !== undefined && to.length > 0 ? { smtpUrl, from, to } : undefined,
    metricsPort: core.metricsPort ?? ALERTER_METRICS_PORT,
  });
}

/** Values that must never reach a log line or an alert: the webhook URL and every password in the configured URLs. */
export function secretValues(config: AlerterConfig): string[] {
  const secrets: string[] = [];
  if (config.slackWebhookUrl) secrets.push(config.slackWebhookUrl, new URL(config.slackWebhookUrl).pathname);
  for (const raw of [config.email?.smtpUrl, config.core.databaseUrl, config.core.amqpUrl, config.core.redisUrl]) {
    if (raw === undefined) continue;
    const password = new URL(raw).password;
    if (password.length >= 4) secrets.push(password, decodeURIComponent(password));
  }
  return [...new Set(secrets)].filter((secret) => secret.length >= 4 && secret !== '/');
}
