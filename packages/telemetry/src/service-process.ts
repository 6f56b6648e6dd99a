import { MetricsPortInUseError } from './metrics-server.ts';
import { startTelemetry, type Telemetry, type TelemetryOptions } from './telemetry.ts';

/** Whatever a service's start returns: something that stops. */
export interface StoppableService {
  stop(): Promise<void>;
}

export interface ServiceProcessOptions<S extends StoppableService> {
  /** The service's name, in its log lines: `alerter ready`, `the alerter could not start`. */
  readonly name: string;
  readonly telemetry: Telemetry;
  /** Starts the service. `signal` aborts when a stop signal arrives during start-up (e.g. while waiting for PostgreSQL). */
  start(signal: AbortSignal): Promise<S>;
  /** Fields of the `ready` log line. Default: the metrics URL. */
  readyFields?(service: S): Record<string, unknown>;
  /**
   * The exit code for a start that failed: core's `errorOutcome(error).exitCode`, which is 2 for a configuration
   * error (a supervisor does not restart what a restart cannot fix). Passed in, as telemetry does not know core's errors.
   */
  exitCode(error: unknown): number;
}

/**
 * The life of a service process that stops on its first signal: starts the service, logs `<name> ready`,
 * and on SIGTERM, SIGINT or SIGHUP stops it, flushes telemetry and exits 0. A signal during start-up gives the
 * start up and exits 0; a start that fails is logged as fatal and exits with `exitCode(error)`. (The worker and beat have their own,
 * which count signals: a second one stops them at once.)
 */
export async function runServiceProcess<S extends StoppableService>(options: ServiceProcessOptions<S>): Promise<void> {
  const { name, telemetry } = options;
  const { logger } = telemetry;
  const starting = new AbortController();
  let service: S | undefined;
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    starting.abort();
    logger.info({ signal }, 'stopping');
    await service?.stop();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', (signal) => void stop(signal));
  process.on('SIGINT', (signal) => void stop(signal));
  process.on('SIGHUP', (signal) => void stop(signal));
  try {
    service = await options.start(starting.signal);
    logger.info(options.readyFields?.(service) ?? { metrics: telemetry.metricsUrl }, `${name} ready`);
  } catch (error) {
    if (stopping) process.exit(0);
    logger.fatal({ err: error }, `the ${name} could not start`);
    await telemetry.shutdown();
    process.exit(options.exitCode(error));
  }
}

/**
 * `startTelemetry` for a service process's main: a metrics port already taken (a second beat or worker on one
 * host) is said in one line on stderr, `beat: cannot serve /metrics … set NIGHTSHIFT_METRICS_PORT …`, and the
 * process exits 2, as for any bad setting (a supervisor does not restart what a restart cannot fix), rather
 * than dying on an uncaught error with its stack.
 */
export async function startServiceTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  try {
    return await startTelemetry(options);
  } catch (error) {
    if (!(error instanceof MetricsPortInUseError)) throw error;
    process.stderr.write(`${options.service}: ${error.message}\n`);
    process.exit(2);
  }
}
