import { spawn, type ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { eventually } from './eventually.ts';
import { freePort } from './free-port.ts';

/** A redis-server of the test's own, on a free loopback port, without persistence: a restart comes back empty. */
export interface PrivateRedis {
  readonly port: number;
  readonly url: string;
  /** Kills the server (SIGKILL) and, `downForMs` later (default 0), starts a new, empty one on the same port; resolves once it answers. */
  restartEmpty(downForMs?: number): Promise<void>;
  /** Stops the server. */
  stop(): Promise<void>;
}

/** Starts `redis-server --port P --save "" --appendonly no` and waits until it answers PING. */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const start = async () => {
    child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await eventually(`redis-server on port ${port} to answer`, () => ping(url), 10_000, 50);
  };
  const kill = async () => {
    const running = child;
    child = undefined;
    if (running === undefined || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill('SIGKILL');
    await exited;
  };
  await start();
  return { port, url, restartEmpty: async (downForMs = 0) => {
    await kill();
    await new Promise((resolve) => setTimeout(resolve, downForMs));
    await start();
  }, stop: kill };
}

async function ping(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
