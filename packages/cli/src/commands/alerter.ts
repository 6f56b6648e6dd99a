import { loadAlerterConfig, startAlerter } from '@nightshift/alerter';
import { startTelemetry } from '@nightshift/telemetry';
import { defineCommand } from '../command.ts';
import { unknownSettingWarnings } from '../unknown-settings.ts';

const usage = `Usage: nightshift alerter

Runs the alerter: it migrates the PostgreSQL store, consumes the dead-letters queue, stores every dead
letter (acknowledged only once its row is committed), and pages on final failures, grouped by task and
error class: the first at once, the rest of a window as one summary. Ctrl-C, SIGTERM or closing the
terminal (SIGHUP) stops it.

Channels (the log always; the others when configured):
  NIGHTSHIFT_SLACK_WEBHOOK_URL                a Slack incoming webhook
  NIGHTSHIFT_SMTP_URL                         smtp://user:pass@host:587, with
  NIGHTSHIFT_ALERT_EMAIL_FROM, _TO            the sender and the recipients (comma-separated)
  NIGHTSHIFT_DASHBOARD_URL, NIGHTSHIFT_TRACE_URL   bases of the links in alerts
  NIGHTSHIFT_ALERT_WINDOW                     grouping window (default: 10m)
  NIGHTSHIFT_ALERT_RATE_LIMIT                 per channel (default: 20/1m)
  NIGHTSHIFT_DATABASE_SCHEMA                  the store's schema (default: nightshift)
  NIGHTSHIFT_METRICS_PORT                     /metrics (default: 9466)

Examples:
  nightshift alerter
  NIGHTSHIFT_SLACK_WEBHOOK_URL=https://hooks.slack.com/services/… nightshift alerter`;

export const alerter = defineCommand({
  name: 'alerter',
  summary: 'store dead letters in PostgreSQL and page Slack, email and the log on final failures',
  usage,
  options: { app: { type: 'string' } },
  async run(_args, io) {
    const config = loadAlerterConfig(io.env);
    const telemetry = await startTelemetry({
      service: 'alerter', metricsPort: config.metricsPort, logLevel: config.core.logLevel,
      redactKeys: config.core.redactKeys, redactValues: config.secretValues,
    });
    for (const line of await unknownSettingWarnings(io.env)) telemetry.logger.warn(line);
    const starting = new AbortController();
    let stop: () => void = () => {};
    const stopped = new Promise<void>((resolve) => { stop = resolve; });
    const stopListening = io.onInterrupt(() => {
      starting.abort();
      stop();
    });
    try {
      const running = await startAlerter({ config, logger: telemetry.logger, meter: telemetry.meter, signal: starting.signal });
      telemetry.logger.info({ metrics: telemetry.metricsUrl }, 'alerter ready');
      await stopped;
      await running.stop();
      return 0;
    } finally {
      stopListening();
      await telemetry.shutdown();
    }
  },
});
