// nightshift worker: read flags and environment, start telemetry and the worker, stop on signals.
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '@nightshift/core';
import { startTelemetry } from '@nightshift/telemetry';
import { startWorker } from './start.ts';

const WORKER_METRICS_PORT = 9464;

const { values } = parseArgs({
  options: {
    app: { type: 'string' },
    queues: { type: 'string' },
    concurrency: { type: 'string' },
    pool: { type: 'string' },
    grace: { type: 'string' },
    name: { type: 'string' },
  },
});

try {
  if (!values.app) throw new ConfigError('nightshift worker needs --app <path>: the module whose default export is your app');
  const config = loadConfig();
  const telemetry = await startTelemetry({ service: 'worker', metricsPort: config.metricsPort ?? WORKER_METRICS_PORT, logLevel: config.logLevel, redactKeys: config.redactKeys });
  const log = telemetry.logger;
  const started = await startWorker({
    appPath: values.app,
    ...(values.queues ? { queues: values.queues.split(',').map((q) => q.trim()).filter(Boolean) } : {}),
    ...(values.concurrency ? { concurrency: Number(values.concurrency) } : {}),
    ...(values.pool ? { pool: values.pool as 'threads' | 'inline' } : {}),
    ...(values.grace ? { grace: values.grace } : {}),
    ...(values.name ? { name: values.name } : {}),
  }, process.env, log);
  log.info({ metrics: telemetry.metricsUrl }, 'metrics served');
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    log.info({ signal }, signals === 1 ? 'stopping gracefully (send it again to stop at once)' : 'stopping at once');
    void started.stop({ force: signals > 1 }).then(async () => {
      await telemetry.shutdown();
      process.exit(0);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
} catch (error) {
  process.stderr.write(`worker: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(error instanceof ConfigError ? 2 : 1);
}
