// BullMQ's side of bench/compare, shaped like Nightshift's: a worker at concurrency 2 with an in-process
// processor or a sandboxed one on worker threads; completed jobs removed (Nightshift keeps nothing either).
import { fileURLToPath } from 'node:url';
import { Queue, Worker, type ConnectionOptions, type Processor } from 'bullmq';
import { randomPrefix } from '@nightshift/test-helpers';
import { spanRate } from './figures.ts';
import type { RoundResult } from './nightshift.ts';

/** `process`: an in-process processor function. `threads`: BullMQ's sandbox on worker threads. */
export type BullProcessor = 'process' | 'threads';

const WINDOW = 200;
const QUEUE = 'compare';
const sandboxFile = fileURLToPath(new URL('../fixtures/bullmq-noop.ts', import.meta.url));
const inProcess: Processor = () => Promise.resolve(null);

function connectionOf(redisUrl: string): ConnectionOptions {
  const url = new URL(redisUrl);
  return { host: url.hostname, port: Number(url.port || 6379), ...(url.password ? { password: decodeURIComponent(url.password) } : {}) };
}

interface Round {
  readonly queue: Queue;
  readonly prefix: string;
  readonly connection: ConnectionOptions;
}

function openQueue(redisUrl: string): Round {
  const connection = connectionOf(redisUrl);
  const prefix = randomPrefix('bull');
  const queue = new Queue(QUEUE, { connection, prefix, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
  return { queue, prefix, connection };
}

function startWorker(round: Round, processor: BullProcessor, onCompleted: () => void): Worker {
  const worker = processor === 'threads'
    ? new Worker(QUEUE, sandboxFile, { connection: round.connection, prefix: round.prefix, concurrency: 2, useWorkerThreads: true })
    : new Worker(QUEUE, inProcess, { connection: round.connection, prefix: round.prefix, concurrency: 2 });
  worker.on('completed', onCompleted);
  worker.on('error', (error) => console.error('bullmq worker:', error.message));
  return worker;
}

async function close(round: Round, worker: Worker): Promise<void> {
  await worker.close();
  await round.queue.obliterate({ force: true });
  await round.queue.close();
}

function completions(count: number): { readonly times: number[]; readonly all: Promise<void>; readonly listener: () => void } {
  const times: number[] = [];
  let resolve: () => void = () => {};
  const all = new Promise<void>((r) => { resolve = r; });
  return { times, all, listener: () => { times.push(performance.now()); if (times.length === count) resolve(); } };
}

/** Enqueue `count` (addBulk), then start a worker: its start-up, and its rate from first to last completed job. */
export async function bullDrain(redisUrl: string, processor: BullProcessor, count: number): Promise<RoundResult> {
  const round = openQueue(redisUrl);
  for (let added = 0; added < count; added += 1_000) {
    await round.queue.addBulk(Array.from({ length: Math.min(1_000, count - added) }, () => ({ name: 'noop', data: {} })));
  }
  const done = completions(count);
  const started = performance.now();
  const worker = startWorker(round, processor, done.listener);
  await done.all;
  const [first, last] = [done.times[0] as number, done.times[count - 1] as number];
  await close(round, worker);
  return { rate: spanRate(count, first, last), startupMs: first - started };
}

/** Start a worker, then add `count` jobs (200 in flight) while it runs them: first add to last completed. */
export async function bullFlow(redisUrl: string, processor: BullProcessor, count: number): Promise<RoundResult> {
  const round = openQueue(redisUrl);
  const done = completions(count);
  const worker = startWorker(round, processor, done.listener);
  await worker.waitUntilReady();
  const started = performance.now();
  for (let added = 0; added < count; added += WINDOW) {
    await Promise.all(Array.from({ length: Math.min(WINDOW, count - added) }, () => round.queue.add('noop', {})));
  }
  await done.all;
  const last = done.times[count - 1] as number;
  await close(round, worker);
  return { rate: count / ((last - started) / 1000) };
}
