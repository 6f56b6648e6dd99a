// The alerter process: read config, build the parts, start, stop on signals. `nightshift up` starts it as
// `main.ts --app <path>`; the alerter needs no app, so --app is accepted and ignored.
import { parseArgs } from 'node:util';
import { errorOutcome } from '@nightshift/core';
import { runServiceProcess, startServiceTelemetry } from '@nightshift/telemetry';
import { loadAlerterConfig } from './config.ts';
import { startAlerter } from './alerter.ts';

parseArgs({ options: { app: { type: 'string' } }, strict: true });

let config;
try {
  config = loadAlerterConfig(process.env);
} catch (error) {
  process.stderr.write(`alerter: ${(error as Error).message}\n`);
  process.exit(2);
}
const telemetry = await startServiceTelemetry({
  service: 'alerter', metricsPort: config.metricsPort, logLevel: config.core.logLevel,
  redactKeys: config.core.redactKeys, redactValues: config.secretValues,
});
await runServiceProcess({
  name: 'alerter', telemetry, exitCode: (error) => errorOutcome(error).exitCode,
  start: (signal) => startAlerter({ config, logger: telemetry.logger, meter: telemetry.meter, signal }),
});
