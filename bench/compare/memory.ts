// A worker's memory as it runs more and more no-op tasks: its RSS after the first `every` and after `total`
// (the issue asks 10,000 and 100,000), each read after a garbage collection of the main thread, from a worker
// in a process of its own (memory-round.ts) while this process sends the tasks.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PoolKind } from '@nightshift/worker';
import { install, sendAll, type Servers } from './nightshift.ts';

const roundScript = fileURLToPath(new URL('./memory-round.ts', import.meta.url));

/** The process's memory after `done` tasks, in bytes. */
export interface MemorySample {
  readonly done: number;
  readonly rss: number;
  /** The main thread's V8 heap: reserved, used, and of it the young generation (new space) reserved. */
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly newSpace: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/**
 * A worker at concurrency 2 on `pool` runs `total` tasks; a sample after every `every`. `flags`: more Node
 * flags for its process (`--max-semi-space-size=16` shows how much of the growth is V8's young generation).
 */
export async function workerMemory(servers: Servers, pool: PoolKind, total: number, every: number, flags: readonly string[] = []): Promise<MemorySample[]> {
  const installation = await install(servers);
  const child = spawn(process.execPath, ['--expose-gc', ...flags, roundScript, JSON.stringify({ env: installation.env, pool, total, every })], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const samples: MemorySample[] = [];
  try {
    let ready: () => void = () => {};
    const isReady = new Promise<void>((resolve) => { ready = resolve; });
    createInterface({ input: child.stdout }).on('line', (line) => {
      const parsed = JSON.parse(line) as MemorySample | { ready: true };
      if ('ready' in parsed) ready();
      else samples.push(parsed);
    });
    await Promise.race([isReady, exited.then((code) => { throw new Error(`memory round exited with ${code} before it was ready`); })]);
    await sendAll(installation.client, total);
    const code = await exited;
    if (code !== 0) throw new Error(`memory round exited with ${code}`);
    return samples;
  } finally {
    child.kill();
    await installation.remove();
  }
}
