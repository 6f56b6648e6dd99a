// The alerter process: read config, build the parts, start, stop on signals. `nightshift up` starts it as
// `main.ts --app <path>`; the alerter needs no app, so --app is accepted and ignored.
import { parseArgs } from 'node:util';
import { startTelemetry } from '@nightshift/telemetry';
import { loadAlerterConfig, secretValues } from './config.ts';
import { startAlerter } from './alerter.ts';

parseArgs({ options: { app: { type: 'string' } }, strict: true });

let config;
try {
  config = loadAlerterConfig(process.env);
} catch (error) {
  process.stderr.write(`alerter: ${(error as Error).message}\n`);
  process.exit(2);
}
const telemetry = await startTelemetry({
  service: 'alerter', metricsPort: config.metricsPort, logLevel: config.core.logLevel,
  redactKeys: config.core.redactKeys, redactValues: secretValues(config),
});
const { logger } = telemetry;
let alerter: Awaited<ReturnType<typeof startAlerter>> | undefined;
let stopping = false;
const starting = new AbortController();
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  starting.abort();
  logger.info({ signal }, 'stopping');
  await alerter?.stop();
  await telemetry.shutdown();
  process.exit(0);
};
process.on('SIGTERM', (signal) => void stop(signal));
process.on('SIGINT', (signal) => void stop(signal));
try {
  alerter = await startAlerter({ config, logger, meter: telemetry.meter, signal: starting.signal });
  logger.info({ metrics: telemetry.metricsUrl }, 'alerter ready');
} catch (error) {
  if (stopping) process.exit(0);
  logger.fatal({ err: error }, 'the alerter could not start');
  await telemetry.shutdown();
  process.exit(1);
}
