// The health-api process: read config, build the parts, start, stop on signals. `nightshift up` starts it as
// `main.ts --app <path>`; with --app, tasks can be sent by name and the schedule is shown.
import { parseArgs } from 'node:util';
import { errorOutcome, loadApp, type AnyApp } from '@nightshift/core';
import { runServiceProcess, startServiceTelemetry } from '@nightshift/telemetry';
import { loadHealthApiConfig } from './config.ts';
import { startHealthApi } from './service.ts';

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
const telemetry = await startServiceTelemetry({
  service: 'health-api', metricsPort: config.metricsPort, logLevel: config.core.logLevel,
  redactKeys: config.core.redactKeys, redactValues: config.secretValues,
});
await runServiceProcess({
  name: 'health-api', telemetry, exitCode: (error) => errorOutcome(error).exitCode,
  start: (signal) => startHealthApi({ config, logger: telemetry.logger, meter: telemetry.meter, signal, ...(app ? { app } : {}) }),
  readyFields: (api) => ({ url: api.url, metrics: telemetry.metricsUrl, app: app?.name }),
});
