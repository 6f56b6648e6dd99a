// The health-api process: read config, build the parts, start, stop on signals. `nightshift up` starts it as
// `main.ts --app <path>`; with --app, tasks can be sent by name and the schedule is shown.
import { parseArgs } from 'node:util';
import { loadApp, type AnyApp } from '@nightshift/core';
import { startTelemetry } from '@nightshift/telemetry';
import { loadHealthApiConfig, secretValues } from './config.ts';
import { startHealthApi, type HealthApi } from './service.ts';

const { values } = parseArgs({ options: { app: { type: 'string' } }, strict: true });

let config;
let app: AnyApp | undefined;
try {
  config = loadHealthApiConfig(process.env);
  if (values.app !== undefined) app = await loadApp(values.app);
} catch (error) {
  process.stderr.write(`health-api: ${(error as Error).message}\n`);
  process.exit(2);
}
const telemetry = await startTelemetry({
  service: 'health-api', metricsPort: config.metricsPort, logLevel: config.core.logLevel,
  redactKeys: config.core.redactKeys, redactValues: secretValues(config),
});
const { logger } = telemetry;
let api: HealthApi | undefined;
let stopping = false;
const starting = new AbortController();
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  starting.abort();
  logger.info({ signal }, 'stopping');
  await api?.stop();
  await telemetry.shutdown();
  process.exit(0);
};
process.on('SIGTERM', (signal) => void stop(signal));
process.on('SIGINT', (signal) => void stop(signal));
try {
  api = await startHealthApi({ config, logger, meter: telemetry.meter, signal: starting.signal, ...(app ? { app } : {}) });
  logger.info({ url: api.url, metrics: telemetry.metricsUrl, app: app?.name }, 'health-api ready');
} catch (error) {
  if (stopping) process.exit(0);
  logger.fatal({ err: error }, 'the health-api could not start');
  await telemetry.shutdown();
  process.exit(1);
}
