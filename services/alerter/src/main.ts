// The alerter process: read config, build the parts, start, stop on signals. `nightshift up` starts it as
// `main.ts --app <path>`; with --app the schedule watch judges the code's entries too (runtime entries only without).
import { parseArgs } from 'node:util';
import { errorOutcome, loadApp, type AnyApp } from '@nightshift/core';
import { runServiceProcess, startServiceTelemetry } from '@nightshift/telemetry';
import { loadAlerterConfig } from './config.ts';
import { startAlerter } from './alerter.ts';

const { values } = parseArgs({ options: { app: { type: 'string' } }, strict: true });

let config;
let app: AnyApp | undefined;
try {
  config = loadAlerterConfig(process.env);
  if (values.app !== undefined) app = await loadApp(values.app);
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
  start: (signal) => startAlerter({ config, logger: telemetry.logger, meter: telemetry.meter, signal, ...(app ? { app } : {}) }),
});
