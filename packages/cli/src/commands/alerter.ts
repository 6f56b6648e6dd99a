import { loadAlerterConfig, startAlerter } from '@nightshift/alerter';
import { startTelemetry } from '@nightshift/telemetry';
import { defineCommand } from '../command.ts';
import { unknownSettingWarnings } from '../unknown-settings.ts';

const usage = `Usage: nightshift alerter

Runs the alerter: it migrates the PostgreSQL store, consumes the dead-letters queue, stores every dead
letter (acknowledged only once its row is committed), and pages on final failures, grouped by task and
error class: the first at once, the rest of a window as one summary. Ctrl-C, SIGTERM or closing the
terminal (SIGHUP) stops it.

Channels: the log always; Slack with NIGHTSHIFT_SLACK_WEBHOOK_URL; email with NIGHTSHIFT_SMTP_URL,
NIGHTSHIFT_ALERT_EMAIL_FROM and NIGHTSHIFT_ALERT_EMAIL_TO together. nightshift config --service alerter
lists every setting it reads, with its value in effect and its default.

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
    for (const { name, didYouMean, message } of await unknownSettingWarnings(io.env)) telemetry.logger.warn({ setting: name, didYouMean }, message);
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
