import { extname } from 'node:path';
import { parseDuration, settingText } from '@nightshift/core';
import { WORKER_GRACE } from '@nightshift/worker';

/** What a worker needs past its grace: returning the tasks still running to their queues, closing its connections, flushing telemetry. */
export const STOP_MARGIN_MS = 5_000;

/**
 * How long the worker lets running tasks finish after its first SIGTERM: NIGHTSHIFT_WORKER_GRACE, else 30 s.
 * @throws ConfigError naming NIGHTSHIFT_WORKER_GRACE when it is not a duration.
 */
export function workerGraceMs(env: Readonly<Record<string, string | undefined>>): number {
  return WORKER_GRACE.read(settingText(WORKER_GRACE, env));
}

/**
 * How long a service may take to stop after SIGTERM before it is killed: the worker's grace (`workerGrace`,
 * else NIGHTSHIFT_WORKER_GRACE, else 30 s) plus `STOP_MARGIN_MS`, so that a task the worker lets finish is not
 * killed midway. The other services stop well within it.
 * @throws ConfigError naming `--grace` or NIGHTSHIFT_WORKER_GRACE when it is not a duration.
 */
export function serviceStopGraceMs(env: Readonly<Record<string, string | undefined>>, workerGrace?: string): number {
  return (workerGrace === undefined ? workerGraceMs(env) : parseDuration(workerGrace, '--grace')) + STOP_MARGIN_MS;
}

/**
 * The Node flags that make a service stop when the process that started it ends, however it ends (see
 * stop-with-parent.ts): SIGTERM, then SIGKILL after `graceMs` (0: never). The service's stdin must be a pipe
 * that the starter holds open and never writes to.
 */
export function stopWithParentFlags(graceMs: number): string[] {
  // This module's own extension: .ts run from the sources, .js once compiled.
  const preload = new URL(`./stop-with-parent${extname(import.meta.url)}`, import.meta.url);
  preload.searchParams.set('grace', String(Math.round(graceMs)));
  return ['--import', preload.href];
}
