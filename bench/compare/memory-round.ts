// The worker of the memory figure, in a process of its own so its RSS is the worker's alone (its sandbox
// threads included, as they live in it): started with --expose-gc, it runs the tasks the bench sends and, every
// `every` successes, collects garbage on the main thread and prints the process's memory as one JSON line.
// argv[2]: JSON { env, pool, total, every }. Prints `{"ready":true}` once it consumes.
import { signals } from '@nightshift/core';
import { metrics } from '@nightshift/telemetry';
import { startWorker, type PoolKind } from '@nightshift/worker';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics } from 'node:v8';
import { quiet } from './nightshift.ts';

const { env, pool, total, every } = JSON.parse(process.argv[2] ?? '{}') as { env: Record<string, string>; pool: PoolKind; total: number; every: number };
const gc = (globalThis as { gc?: () => void }).gc;
const appPath = fileURLToPath(new URL('../fixtures/noop-app.ts', import.meta.url));
const say = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);

let done = 0;
const finished = new Promise<void>((resolve) => {
  signals.on('taskSuccess', () => {
    done += 1;
    if (done % every !== 0) return;
    gc?.();
    const { rss, heapTotal, heapUsed, external, arrayBuffers } = process.memoryUsage();
    const newSpace = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
    say({ done, rss, heapTotal, heapUsed, newSpace, external, arrayBuffers, gc: gc !== undefined });
    if (done === total) resolve();
  });
});
const worker = await startWorker({ appPath, concurrency: 2, pool }, env, quiet, metrics.getMeter('bench'));
say({ ready: true });
await finished;
await worker.stop();
process.exit(0);
