import { ConfigProblems, readCoreConfig, secretValues, settingText, TRACE_URL, type NightshiftConfig } from '@nightshift/core';
import type { RateLimit } from '@nightshift/alerts';
import { DATABASE_SCHEMA } from '@nightshift/store';
import {
  ALERT_EMAIL_FROM, ALERT_EMAIL_TO, ALERTER_ENTRY_LABELS, ALERT_RATE_LIMIT, ALERT_WINDOW, ALERTER_SETTINGS, DASHBOARD_URL, SCHEDULE_FLAP_WINDOW, SCHEDULE_WATCH_INTERVAL,
  SLACK_WEBHOOK_URL, SMTP_URL,
} from './settings.ts';

/** The alerter's metrics port unless `NIGHTSHIFT_METRICS_PORT` says otherwise. */
export const ALERTER_METRICS_PORT = 9466;

/** Everything the alerter reads from the environment (declared in settings.ts), validated. */
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
  /** `NIGHTSHIFT_SCHEDULE_WATCH_INTERVAL`: how often every schedule entry is judged. Default: `5s`. */
  readonly scheduleWatchMs: number;
  /** `NIGHTSHIFT_SCHEDULE_FLAP_WINDOW`: a schedule incident this soon after a recovery is flapping. Default: `1h`. */
  readonly flapWindowMs: number;
  /** `NIGHTSHIFT_ALERTER_ENTRY_LABELS`: how many runtime schedule entries have their own series in the metrics. Default: `500`. */
  readonly entryLabels: number;
  /** `NIGHTSHIFT_METRICS_PORT`, else 9466. */
  readonly metricsPort: number;
  /** What logs and alerts must never show: the webhook URL and every password in the configured URLs. */
  readonly secretValues: readonly string[];
}

/**
 * Reads the alerter's configuration from its declared settings (settings.ts). Every bad variable is reported
 * at once, each by name.
 * @throws ConfigError listing the variables at fault.
 */
export function loadAlerterConfig(env: Readonly<Record<string, string | undefined>> = process.env): AlerterConfig {
  const collected = new ConfigProblems(env);
  const core = readCoreConfig(collected);
  const smtpUrl = collected.read(SMTP_URL);
  const from = collected.read(ALERT_EMAIL_FROM);
  const to = collected.read(ALERT_EMAIL_TO) ?? [];
  // Whether each part of the email channel is given at all: a bad one is reported by itself, not as missing.
  const emailParts = [SMTP_URL, ALERT_EMAIL_FROM, ALERT_EMAIL_TO];
  const missing = emailParts.filter((setting) => settingText(setting, env) === undefined).map((setting) => setting.name);
  if (missing.length > 0 && missing.length < emailParts.length) {
    collected.add(missing.join(', '), `${missing.join(', ')}: email alerts need ${SMTP_URL.name}, ${ALERT_EMAIL_FROM.name} and ${ALERT_EMAIL_TO.name} together`);
  }
  return collected.finish({
    core,
    schema: collected.read(DATABASE_SCHEMA),
    slackWebhookUrl: collected.read(SLACK_WEBHOOK_URL),
    email: smtpUrl !== undefined && from !== undefined && to.length > 0 ? Object.freeze({ smtpUrl, from, to }) : undefined,
    dashboardUrl: collected.read(DASHBOARD_URL),
    traceUrl: collected.read(TRACE_URL),
    windowMs: collected.read(ALERT_WINDOW),
    rateLimit: collected.read(ALERT_RATE_LIMIT),
    scheduleWatchMs: collected.read(SCHEDULE_WATCH_INTERVAL),
    flapWindowMs: collected.read(SCHEDULE_FLAP_WINDOW),
    entryLabels: collected.read(ALERTER_ENTRY_LABELS),
    metricsPort: core.metricsPort ?? ALERTER_METRICS_PORT,
    secretValues: Object.freeze(secretValues(ALERTER_SETTINGS, env)),
  });
}
