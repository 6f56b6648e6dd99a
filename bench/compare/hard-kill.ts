// Kill → next task started: a task killed at its hard limit with another right behind it (concurrency 1,
// thread sandboxes), next to what a bare worker_threads terminate and respawn costs in the same run, and to
// what waking a bare idle thread with a message costs (the least a hand-over to a warm spare can cost).
import { fileURLToPath } from 'node:url';
import { Worker as Thread } from 'node:worker_threads';
import { loadConfig, signals } from '@nightshift/core';
import { Broker, brokerOptions, createClient } from '@nightshift/broker';
import { metrics } from '@nightshift/telemetry';
import { randomPrefix } from '@nightshift/test-helpers';
import { startWorker } from '@nightshift/worker';
import { spin, stamp } from '../fixtures/kill-app.ts';

const appPath = fileURLToPath(new URL('../fixtures/kill-app.ts', import.meta.url));
const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `kills` rounds, `gapMs` apart (a kill now and then, not a storm): milliseconds from the worker's
 * "hard time limit reached" to the start of the task sent right behind the killed one. `meanwhile` runs in
 * each gap (another figure's round, taken between kills).
 */
export async function killToNextStart(amqpUrl: string, kills: number, gapMs: number, meanwhile?: () => Promise<void>): Promise<number[]> {
  const env = { NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_PREFIX: randomPrefix('compare-kill'), NIGHTSHIFT_LOG_LEVEL: 'error' };
  const config = loadConfig(env);
  const client = await createClient(config, { name: 'bench' });
  let killedAt = 0;
  const log = {
    debug() {}, info() {}, warn() {},
    error(_fields: unknown, message?: string) {
      if (message?.startsWith('hard time limit reached')) killedAt = now();
    },
  };
  const worker = await startWorker({ appPath, concurrency: 1, pool: 'threads' }, env, log, metrics.getMeter('bench'));
  const delays: number[] = [];
  try {
    for (let round = 0; round < kills; round++) {
      await sleep(gapMs);
      await meanwhile?.();
      const next = new Promise<number>((resolve) => {
        const listener = (info: { task: string; result: unknown }) => {
          if (info.task !== stamp.name) return;
          signals.off('taskSuccess', listener);
          resolve(info.result as number);
        };
        signals.on('taskSuccess', listener);
      });
      await client.send(spin, []);
      await client.send(stamp, []);
      delays.push((await next) - killedAt);
    }
  } finally {
    await worker.stop();
    await client.close();
    const cleaner = await Broker.connect(brokerOptions(config, 'bench-cleanup'));
    await cleaner.ensureQueue('default');
    await cleaner.deleteTopology();
    await cleaner.close();
  }
  return delays;
}

// The least a respawned thread costs: a fresh thread with nothing to load, announcing itself.
const BARE = "require('node:worker_threads').parentPort.postMessage('ready'); setInterval(() => {}, 1e9);";

function bareThread(): Promise<Thread> {
  const thread = new Thread(BARE, { eval: true });
  return new Promise((resolve, reject) => {
    thread.once('message', () => resolve(thread));
    thread.once('error', reject);
  });
}

/** Milliseconds from `terminate()` of a running thread to a fresh one's first message, `rounds` times. */
export async function bareRespawn(rounds: number): Promise<number[]> {
  const delays: number[] = [];
  let thread = await bareThread();
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    await thread.terminate();
    thread = await bareThread();
    delays.push(performance.now() - started);
  }
  await thread.terminate();
  return delays;
}

// A bare thread that answers each message with the moment it received it.
const ECHO = "const { parentPort } = require('node:worker_threads'); parentPort.on('message', () => parentPort.postMessage(performance.timeOrigin + performance.now())); parentPort.postMessage(0);";

/** A bare idle thread: `wake()` is the milliseconds from posting it a message to its receiving it. */
export async function idleThread(): Promise<{ wake(): Promise<number>; close(): Promise<void> }> {
  const thread = new Thread(ECHO, { eval: true });
  const replies: Array<(at: number) => void> = [];
  thread.on('message', (at: number) => replies.shift()?.(at));
  await new Promise<number>((resolve) => replies.push(resolve));
  return {
    async wake() {
      const received = new Promise<number>((resolve) => replies.push(resolve));
      const posted = now();
      thread.postMessage(null);
      return (await received) - posted;
    },
    close: () => thread.terminate().then(() => {}),
  };
}
