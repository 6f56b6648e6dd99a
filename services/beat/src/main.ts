// The beat service: `node services/beat/src/main.ts --app <path>` (what `nightshift beat` and `nightshift up` run).
import { parseArgs } from 'node:util';
import { errorOutcome, EXIT_USAGE, loadApp } from '@nightshift/core';
import { startServiceTelemetry } from '@nightshift/telemetry';
import { loadBeatConfig, type BeatConfig } from './config.ts';
import { BEAT_METRICS_PORT } from './options.ts';
import { startBeatService, type BeatService } from './service.ts';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { app: { type: 'string' } } });
  if (values.app === undefined) {
    process.stderr.write('usage: node services/beat/src/main.ts --app <path>\n');
    process.exit(2);
  }
  let beatConfig: BeatConfig;
  try {
    beatConfig = loadBeatConfig(process.env);
  } catch (error) {
    process.stderr.write(`beat: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const config = beatConfig.core;
  const telemetry = await startServiceTelemetry({ service: 'beat', metricsPort: config.metricsPort ?? BEAT_METRICS_PORT, logLevel: config.logLevel, redactKeys: config.redactKeys });
  const log = telemetry.logger;
  const starting = new AbortController();
  let service: BeatService | undefined;
  let signals = 0;
  const shutdown = async (signal: string): Promise<void> => {
    if (++signals > 1) process.exit(1);
    log.info({ signal }, 'stopping');
    starting.abort();
    await service?.stop();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', (signal) => void shutdown(signal));
  process.on('SIGINT', (signal) => void shutdown(signal));

  try {
    const app = await loadApp(values.app);
    service = await startBeatService({
      app, config, log, meter: telemetry.meter, signal: starting.signal, reconcileEvery: beatConfig.reconcileEveryMs, entryLabels: beatConfig.entryLabels,
      store: { url: config.databaseUrl, schema: beatConfig.schema, applicationName: 'nightshift beat', maxConnections: 2 },
    });
    log.info({ metrics: telemetry.metricsUrl }, 'beat started');
  } catch (error) {
    if (starting.signal.aborted) return; // stopping: the signal handler exits
    const { exitCode } = errorOutcome(error);
    log.fatal({ err: error }, exitCode === EXIT_USAGE ? `beat cannot start: ${(error as Error).message}` : 'beat failed to start');
    await telemetry.shutdown();
    process.exit(exitCode);
  }
}

await main();
