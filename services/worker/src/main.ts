// nightshift worker: read flags and environment, start telemetry and the worker, stop on signals.
import { parseArgs } from 'node:util';
import { ConfigError, describeUnknownSettings, errorOutcome, loadConfig } from '@nightshift/core';
import { startServiceTelemetry } from '@nightshift/telemetry';
import { WORKER_FLAGS } from './options.ts';
import { startWorker, type StartedWorker } from './start.ts';

const WORKER_METRICS_PORT = 9464;

// Signals are counted from the first instant: the first stops gracefully, a second stops at once.
let signalCount = 0;
let stopRequested: ((force: boolean) => void) | undefined;
const onSignal = () => {
  signalCount += 1;
  stopRequested?.(signalCount > 1);
};
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);

try {
  const { values } = parseArgs({ options: WORKER_FLAGS });
  if (!values.app) throw new ConfigError('nightshift worker needs --app <path>: the module whose default export is your app');
  const config = loadConfig();
  const telemetry = await startServiceTelemetry({ service: 'worker', metricsPort: config.metricsPort ?? WORKER_METRICS_PORT, logLevel: config.logLevel, redactKeys: config.redactKeys });
  const log = telemetry.logger;
  for (const line of describeUnknownSettings(process.env)) log.warn(line);
  const started: StartedWorker = await startWorker({
    appPath: values.app,
    ...(values.queues ? { queues: values.queues.split(',').map((q) => q.trim()).filter(Boolean) } : {}),
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    ...(values.pool ? { pool: values.pool as 'threads' | 'inline' } : {}),
    ...(values.grace ? { grace: values.grace } : {}),
    ...(values.name ? { name: values.name } : {}),
  }, process.env, log, telemetry.meter);
  log.info({ metrics: telemetry.metricsUrl }, 'metrics served');
  stopRequested = (force) => {
    log.info({ force }, force ? 'stopping at once' : 'stopping gracefully (send the signal again to stop at once)');
    void started.stop({ force }).then(async () => {
      await telemetry.shutdown();
      process.exit(0);
    });
  };
  if (signalCount > 0) stopRequested(signalCount > 1);
} catch (error) {
  process.stderr.write(`worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(errorOutcome(error).exitCode);
}
