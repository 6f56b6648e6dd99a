// nightshift worker: read flags and configuration (once), start telemetry and the worker, stop on signals.
import { parseArgs } from 'node:util';
import { ConfigError, errorOutcome } from '@nightshift/core';
import { startServiceTelemetry } from '@nightshift/telemetry';
import { loadWorkerConfig } from './config.ts';
import { WORKER_FLAGS } from './options.ts';
import { startWorker, type StartedWorker } from './start.ts';

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
  const config = loadWorkerConfig(process.env);
  const telemetry = await startServiceTelemetry({ service: 'worker', metricsPort: config.metricsPort, logLevel: config.core.logLevel, redactKeys: config.core.redactKeys });
  const log = telemetry.logger;
  const started: StartedWorker = await startWorker({
    appPath: values.app,
    ...(values.queues ? { queues: values.queues.split(',').map((q) => q.trim()).filter(Boolean) } : {}),
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    ...(values.autoscale ? { autoscale: values.autoscale } : {}),
    ...(values.pool ? { pool: values.pool as 'threads' | 'inline' } : {}),
    ...(values.grace ? { grace: values.grace } : {}),
    ...(values.name ? { name: values.name } : {}),
  }, config, log, telemetry.meter);
  log.info({ metrics: telemetry.metricsUrl }, 'metrics served');
  stopRequested = (force) => {
    log.info({ force }, force ? 'stopping at once' : 'stopping gracefully (send the signal again to stop at once)');
    void started.stop({ force }).then(async () => {
      await telemetry.shutdown();
      process.exit(0);
    });
  };
  // Remote control's shutdown stops as a first signal does: gracefully, within the grace period.
  void started.worker.shutdownRequested.then(() => stopRequested?.(false));
  if (signalCount > 0) stopRequested(signalCount > 1);
} catch (error) {
  process.stderr.write(`worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(errorOutcome(error).exitCode);
}
