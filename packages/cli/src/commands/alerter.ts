import { loadAlerterConfig, startAlerter } from '@nightshift/alerter';
import { loadApp } from '@nightshift/core';
import { startTelemetry } from '@nightshift/telemetry';
import { defineCommand } from '../command.ts';
import { unknownSettingWarnings } from '../unknown-settings.ts';

const usage = `Usage: nightshift alerter [--app <path>]

Runs the alerter: it migrates the PostgreSQL store, consumes the dead-letters queue, stores every dead
letter (acknowledged only once its row is committed), and pages on final failures, grouped by task and
error class: the first at once, the rest of a window as one summary. It also watches every schedule entry
(the dead man's switch): an entry with no success by its due time, or failing run after run, pages once,
and once more when it recovers. Ctrl-C, SIGTERM or closing the terminal (SIGHUP) stops it.

Options:
      --app <path>   the app (defineApp), so the code's schedule entries are watched too; without it, only
                     the runtime entries are

Channels: the log always; Slack with NIGHTSHIFT_SLACK_WEBHOOK_URL; email with NIGHTSHIFT_SMTP_URL,
NIGHTSHIFT_ALERT_EMAIL_FROM and NIGHTSHIFT_ALERT_EMAIL_TO together. nightshift config --service alerter
lists every setting it reads, with its value in effect and its default.

Examples:
  nightshift alerter
  nightshift alerter --app examples/factory/app.ts
  NIGHTSHIFT_SLACK_WEBHOOK_URL=https://hooks.slack.com/services/… nightshift alerter --app ./app.ts`;

export const alerter = defineCommand({
  name: 'alerter',
  summary: 'store dead letters in PostgreSQL and page Slack, email and the log on final failures',
  usage,
  options: { app: { type: 'string' } },
  async run({ values }, io) {
    const config = loadAlerterConfig(io.env);
    const app = values.app === undefined ? undefined : await loadApp(values.app, io.cwd);
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
      const running = await startAlerter({ config, logger: telemetry.logger, meter: telemetry.meter, signal: starting.signal, ...(app !== undefined ? { app } : {}) });
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
