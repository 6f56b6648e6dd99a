// Nightshift's side of bench/compare: one installation per round (its own prefix), a worker at
// concurrency 2 on the inline or the thread pool, confirmed sends, events on, completion records in Redis, as a
// user runs it.
import { fileURLToPath } from 'node:url';
import { loadConfig, signals, type NightshiftConfig } from '@nightshift/core';
import { Broker, brokerOptions, createClient, type Client } from '@nightshift/broker';
import { metrics } from '@nightshift/telemetry';
import { randomPrefix, removeRedisKeys } from '@nightshift/test-helpers';
import { startWorker, type PoolKind } from '@nightshift/worker';
import { noop } from '../fixtures/noop-app.ts';
import { spanRate } from './figures.ts';

const WINDOW = 200;
const appPath = fileURLToPath(new URL('../fixtures/noop-app.ts', import.meta.url));
export const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** What one round of a shape measured. */
export interface RoundResult {
  /** Tasks per second. */
  readonly rate: number;
  /** Worker start → first task done (drain only). */
  readonly startupMs?: number;
}

/** The servers of a round: the broker, and Redis for the worker's completion records. */
export interface Servers {
  readonly amqpUrl: string;
  readonly redisUrl: string;
}

export interface Installation {
  readonly env: Record<string, string>;
  readonly config: NightshiftConfig;
  readonly client: Client;
  remove(): Promise<void>;
}

export async function install({ amqpUrl, redisUrl }: Servers): Promise<Installation> {
  const env = { NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_PREFIX: randomPrefix('compare'), NIGHTSHIFT_LOG_LEVEL: 'error' };
  const config = loadConfig(env);
  const client = await createClient(config, { name: 'bench' });
  return {
    env, config, client,
    async remove() {
      await client.close();
      const cleaner = await Broker.connect(brokerOptions(config, 'bench-cleanup'));
      await cleaner.ensureQueue('default');
      await cleaner.deleteTopology();
      await cleaner.close();
      await removeRedisKeys(redisUrl, config.prefix);
    },
  };
}

/** Resolves with the time of each success, in order, once `count` have succeeded (all listeners removed). */
function successes(count: number): { readonly times: number[]; readonly all: Promise<void> } {
  const times: number[] = [];
  let listener: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    listener = () => {
      times.push(performance.now());
      if (times.length === count) resolve();
    };
    signals.on('taskSuccess', listener);
  }).finally(() => signals.off('taskSuccess', listener));
  return { times, all };
}

export async function sendAll(client: Client, count: number): Promise<void> {
  for (let sent = 0; sent < count; sent += WINDOW) {
    await Promise.all(Array.from({ length: Math.min(WINDOW, count - sent) }, () => client.send(noop, [])));
  }
}

/**
 * Enqueue `count`, then start a worker: its start-up, and its rate from first to last finished task.
 * `beforeWorker` runs between the two (the tracing figure exports the sends' spans there, out of the drain).
 */
export async function nightshiftDrain(servers: Servers, pool: PoolKind, count: number, beforeWorker?: () => Promise<void>): Promise<RoundResult> {
  const installation = await install(servers);
  await sendAll(installation.client, count);
  await beforeWorker?.();
  const done = successes(count);
  const started = performance.now();
  const worker = await startWorker({ appPath, concurrency: 2, pool }, installation.env, quiet, metrics.getMeter('bench'));
  await done.all;
  const [first, last] = [done.times[0] as number, done.times[count - 1] as number];
  await worker.stop();
  await installation.remove();
  return { rate: spanRate(count, first, last), startupMs: first - started };
}

/** Start a worker, then send `count` (200 in flight) while it runs them: first send to last finished. */
export async function nightshiftFlow(servers: Servers, pool: PoolKind, count: number): Promise<RoundResult> {
  const installation = await install(servers);
  const worker = await startWorker({ appPath, concurrency: 2, pool }, installation.env, quiet, metrics.getMeter('bench'));
  const done = successes(count);
  const started = performance.now();
  await sendAll(installation.client, count);
  await done.all;
  const last = done.times[count - 1] as number;
  await worker.stop();
  await installation.remove();
  return { rate: count / ((last - started) / 1000) };
}

/** `client.send` of single tasks, 200 in flight, each awaited until confirmed: sends per second. */
export async function nightshiftSendRate(servers: Servers, count: number): Promise<number> {
  const installation = await install(servers);
  // Its queue declared before the clock starts, as the raw floor declares its own: the first send of a fresh
  // installation otherwise waits for a new quorum queue (tens of ms, a quarter of a 2,000-send round).
  await installation.client.broker.ensureQueue(noop.queue ?? 'default');
  const started = performance.now();
  await sendAll(installation.client, count);
  const rate = count / ((performance.now() - started) / 1000);
  await installation.remove();
  return rate;
}
