import { loadApp, type Logger } from '@nightshift/core';
import { Broker, brokerOptions } from '@nightshift/broker';
import type { Meter } from '@nightshift/telemetry';
import { loadWorkerConfig, type WorkerConfig } from './config.ts';
import { compileWorkerOptions, type WorkerOptionsInput } from './options.ts';
import { createWorkerPool } from './sandbox-pool.ts';
import { Worker } from './worker.ts';

export interface StartedWorker {
  readonly worker: Worker;
  readonly broker: Broker;
  /** Stops the worker (gracefully; `force` at once) and closes its broker connection. */
  stop(options?: { force?: boolean }): Promise<void>;
}

/**
 * Loads the app, validates options, connects and starts a worker. Used by main.ts and by tests in-process.
 * @param settings the worker's configuration as main.ts loaded it, or an environment to load it from.
 * @param meter where the worker's metrics go: `startTelemetry`'s `meter` in the service, any meter in a test.
 */
export async function startWorker(input: WorkerOptionsInput, settings: WorkerConfig | Readonly<Record<string, string | undefined>>, log: Logger, meter: Meter): Promise<StartedWorker> {
  const config = isWorkerConfig(settings) ? settings : loadWorkerConfig(settings);
  const app = await loadApp(input.appPath);
  const options = compileWorkerOptions(app, input, config, log);
  // The sandboxes load the app while the broker connects: a cold thread is most of a worker's start-up.
  const pool = createWorkerPool(app, options, log);
  let broker: Broker;
  try {
    broker = await Broker.connect({ ...brokerOptions(config.core, `nightshift ${options.name}`, log), connectTimeoutMs: 60_000 });
  } catch (error) {
    await pool.close();
    throw error;
  }
  const worker = new Worker(broker, app, options, log, meter, pool);
  try {
    await worker.start();
  } catch (error) {
    await broker.close();
    throw error;
  }
  let stopped: Promise<void> | undefined;
  // Remote control's shutdown: stop as a first signal would, and close the connection (main.ts then exits).
  void worker.shutdownRequested.then(() => (stopped ??= worker.stop().then(() => broker.close())));
  return {
    worker,
    broker,
    stop: (stopOptions = {}) => {
      if (stopOptions.force) void worker.stop({ force: true });
      stopped ??= worker.stop().then(() => broker.close());
      return stopped;
    },
  };
}

// An environment holds only strings: an object under `core` is a loaded configuration.
function isWorkerConfig(settings: WorkerConfig | Readonly<Record<string, string | undefined>>): settings is WorkerConfig {
  return typeof (settings as { core?: unknown }).core === 'object';
}
