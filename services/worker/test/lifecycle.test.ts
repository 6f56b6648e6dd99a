import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { eventually } from '@nightshift/test-helpers';
import { slow } from './fixtures/app.ts';
import { appPath, harness, type Harness } from './support.ts';

const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
let h: Harness;
const children = new Set<ChildProcess>();
before(async () => { h = await harness(); });
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await h.close();
});

/** A worker as its own process, as `nightshift worker` runs it; with `log`, its log lines are kept there. */
function spawnWorker(extra: Record<string, string> = {}, log?: string[]): ChildProcess {
  const child = spawn(process.execPath, [main, '--app', appPath, '--concurrency', '2'], {
    env: { ...process.env, ...h.env, NIGHTSHIFT_METRICS_PORT: '0', NIGHTSHIFT_LOG_LEVEL: 'warn', ...extra },
    stdio: ['ignore', log ? 'pipe' : 'ignore', 'inherit'],
  });
  if (log && child.stdout) createInterface({ input: child.stdout }).on('line', (line) => log.push(line));
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);
const exited = (child: ChildProcess) => new Promise<number | string | null>((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode);
  else child.once('exit', (code, signal) => resolve(code ?? signal));
});
async function started(marker: string, count: number): Promise<void> {
  await eventually(`the task to start (${marker})`, () => lines(marker).filter((l) => l === 'started').length >= count, 30_000, 20);
}

test('SIGKILL in the middle of a task loses nothing: a new worker runs it to completion once more', async () => {
  const marker = h.marker('kill');
  const first = spawnWorker();
  const id = await h.client.send(slow, [2_000, marker]);
  await started(marker, 1);
  first.kill('SIGKILL');
  await exited(first);
  assert.deepEqual(lines(marker), ['started'], 'killed before it finished');
  const second = spawnWorker();
  const done = await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id, 30_000);
  assert.equal(done.result, 'finished');
  assert.deepEqual(lines(marker), ['started', 'started', 'done'], 'ran again, and finished once');
  second.kill('SIGTERM');
  assert.equal(await exited(second), 0);
});

test('SIGTERM lets a running task finish within the grace period, then the worker says offline and exits 0', async () => {
  const marker = h.marker('term');
  const worker = spawnWorker({ NIGHTSHIFT_WORKER_GRACE: '10s' });
  const id = await h.client.send(slow, [1_500, marker]);
  await started(marker, 1);
  worker.kill('SIGTERM');
  assert.equal(await exited(worker), 0);
  assert.deepEqual(lines(marker), ['started', 'done']);
  assert.ok(h.events.some((e) => e.type === 'task.succeeded' && e.id === id));
  assert.ok(h.events.some((e) => e.type === 'worker.offline'));
});

test('a task still running when the grace period ends goes back to its queue, and the next worker completes it', async () => {
  const marker = h.marker('grace');
  const worker = spawnWorker({ NIGHTSHIFT_WORKER_GRACE: '500ms' });
  const id = await h.client.send(slow, [3_000, marker]);
  await started(marker, 1);
  worker.kill('SIGTERM');
  assert.equal(await exited(worker), 0);
  assert.deepEqual(lines(marker), ['started'], 'stopped after the grace period');
  const next = spawnWorker();
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id, 30_000);
  assert.deepEqual(lines(marker), ['started', 'started', 'done']);
  next.kill('SIGTERM');
  await exited(next);
});

test('a second SIGTERM stops at once; the running task goes back to its queue', async () => {
  const marker = h.marker('force');
  const log: string[] = [];
  const worker = spawnWorker({ NIGHTSHIFT_WORKER_GRACE: '60s', NIGHTSHIFT_LOG_LEVEL: 'info' }, log);
  const id = await h.client.send(slow, [4_000, marker]);
  await started(marker, 1);
  const stopping = Date.now();
  worker.kill('SIGTERM');
  await eventually('the worker to begin its graceful stop', () => log.some((line) => line.includes('stopping gracefully')), 10_000, 20);
  worker.kill('SIGTERM');
  assert.equal(await exited(worker), 0);
  assert.ok(Date.now() - stopping < 3_000, 'did not wait for the task or the grace period');
  assert.deepEqual(lines(marker), ['started']);
  const next = spawnWorker();
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id, 30_000);
  next.kill('SIGTERM');
  await exited(next);
});
