import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { createClient } from '@nightshift/broker';
import { loadConfig } from '@nightshift/core';
import { after, before, test } from 'node:test';
import { report as reportTask } from './fixtures/app.ts';
import { appPath, eventually, installation, type Installation } from './support.ts';

// Worker controls, revokes that last, and a killed worker seen as lost, through the API with real workers.
// Heartbeats are 30 s here: a worker found lost within seconds was found by its control queue, not by silence.
const main = fileURLToPath(import.meta.resolve('@nightshift/worker/main'));
let site: Installation;
const children = new Set<ChildProcess>();

before(async () => {
  site = await installation({ NIGHTSHIFT_HEARTBEAT: '30s' });
});
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await site?.close();
});

interface ApiError { error: { code: string; message: string; parameter?: string } }
interface WorkerView { name: string; status: string; concurrency: number; queues: string[] }
interface Reply { ok: boolean; detail: string; poolSize: number; queues: string[] }

/** A worker as its own process, as `nightshift worker` runs it. */
function spawnWorker(name: string, queues = 'default'): ChildProcess {
  const child = spawn(process.execPath, [main, '--app', appPath, '--concurrency', '2', '--queues', queues, '--name', name], {
    env: { ...process.env, ...site.env, NIGHTSHIFT_METRICS_PORT: '0', NIGHTSHIFT_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}
const exited = (child: ChildProcess) => new Promise<number | string | null>((resolve) => {
  if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode);
  else child.once('exit', (code, signal) => resolve(code ?? signal));
});
const workerView = async (name: string) => (await site.request('GET', `/api/workers/${encodeURIComponent(name)}`)).json as WorkerView & { tasks: { active: unknown[]; reserved: unknown[] } };
const online = (name: string) => eventually(`${name} online`, async () => ((await site.request('GET', '/api/workers')).json as { items: WorkerView[] }).items.find((w) => w.name === name && w.status === 'online'), 120_000, 50);
const send = async (task: string, args: unknown[]) => ((await site.request('POST', '/api/tasks', { task, args })).json as { id: string }).id;
const runState = async (id: string) => ((await site.request('GET', `/api/tasks/${id}`)).json as { state?: string }).state;
const control = (name: string, body: Record<string, unknown>) => site.request('POST', `/api/workers/${encodeURIComponent(name)}/control`, body);

test('pool grow, shrink and restart: the worker reports its new size, a running task finishes, bounds are kept', async () => {
  const started = await site.worker({ name: 'pool-worker', concurrency: 2 });
  await online('pool-worker');
  const grown = await control('pool-worker', { action: 'pool-grow', n: 1 });
  assert.equal(grown.status, 200, grown.body);
  assert.equal(((grown.json as { replies: Reply[] }).replies[0] as Reply).poolSize, 3);
  // A task running while the pool is restarted finishes in its old sandbox; new tasks run in the new pool.
  const napping = await send('nap', [1_500]);
  await eventually('the nap to start', async () => ((await runState(napping)) === 'started' ? true : undefined), 20_000, 50);
  const restarted = await control('pool-worker', { action: 'pool-restart' });
  assert.equal(restarted.status, 200, restarted.body);
  const echoed = await send('echo', ['after restart']);
  await eventually('both tasks to succeed', async () => ((await runState(napping)) === 'succeeded' && (await runState(echoed)) === 'succeeded' ? true : undefined), 30_000, 100);
  const shrunk = await control('pool-worker', { action: 'pool-shrink', n: 2 });
  assert.equal(((shrunk.json as { replies: Reply[] }).replies[0] as Reply).poolSize, 1);
  const below = await control('pool-worker', { action: 'pool-shrink', n: 1 });
  assert.equal(below.status, 409);
  assert.match((below.json as ApiError).error.message, /below its minimum of 1/);
  const tooMany = await control('pool-worker', { action: 'autoscale', min: 1, max: 5 });
  assert.deepEqual([tooMany.status, (tooMany.json as ApiError).error.parameter], [400, 'max'], 'its consumers feed at most twice its starting concurrency');
  const bounds = await control('pool-worker', { action: 'autoscale', min: 2, max: 4 });
  assert.equal(((bounds.json as { replies: Reply[] }).replies[0] as Reply).poolSize, 2, 'raised to the new minimum');
  const beyond = await control('pool-worker', { action: 'pool-grow', n: 3 });
  assert.deepEqual([beyond.status, (beyond.json as ApiError).error.code], [409, 'E_CONTROL_REFUSED']);
  assert.match((beyond.json as ApiError).error.message, /maximum of 4/);
  const last = await send('echo', ['still works']);
  await eventually('a task after the changes', async () => ((await runState(last)) === 'succeeded' ? true : undefined), 20_000, 100);
  const audit = ((await site.request('GET', '/api/control-actions?worker=pool-worker')).json as { items: { actor: string; via: string; action: string; outcome: string; at: string }[] }).items;
  assert.deepEqual(audit.map((a) => `${a.action}:${a.outcome}`), ['pool-grow:refused', 'autoscale:ok', 'autoscale:refused', 'pool-shrink:refused', 'pool-shrink:ok', 'pool-restart:ok', 'pool-grow:ok']);
  assert.ok(audit.every((a) => a.actor === 'alice' && a.via === 'dashboard' && !Number.isNaN(Date.parse(a.at))), 'who and when');
  await started.stop(); // a rate limit is per worker: the next test counts on one worker of the default queue
});

test('add and cancel a consumer; a rate limit set at runtime holds tasks back; bad input is refused naming the field', async () => {
  await site.worker({ name: 'queue-worker', queues: ['default'] });
  await online('queue-worker');
  const report = await send('report', []);
  assert.equal((await control('queue-worker', { action: 'add-consumer', queue: 'reports' })).status, 200);
  await eventually('the report to run', async () => ((await runState(report)) === 'succeeded' ? true : undefined), 20_000, 100);
  const again = await control('queue-worker', { action: 'add-consumer', queue: 'reports' });
  assert.equal(again.status, 409);
  const cancelled = await control('queue-worker', { action: 'cancel-consumer', queue: 'reports' });
  assert.deepEqual(((cancelled.json as { replies: Reply[] }).replies[0] as Reply).queues, ['default']);
  const waiting = await send('report', []);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal(await runState(waiting), 'sent', 'no longer consumed');

  const bad = await control('queue-worker', { action: 'rate-limit', task: 'echo', rate: 'fast' });
  assert.deepEqual([bad.status, (bad.json as ApiError).error.parameter], [400, 'rate']);
  const unknown = await control('queue-worker', { action: 'rate-limit', task: 'nope', rate: '1/m' });
  assert.deepEqual([unknown.status, (unknown.json as ApiError).error.parameter], [400, 'task']);
  assert.equal((await control('queue-worker', { action: 'rate-limit', task: 'echo', rate: '1/m' })).status, 200);
  const ids = [await send('echo', [1]), await send('echo', [2]), await send('echo', [3])];
  await eventually('one echo to succeed', async () => ((await Promise.all(ids.map(runState))).includes('succeeded') ? true : undefined), 20_000, 100);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal((await Promise.all(ids.map(runState))).filter((s) => s === 'succeeded').length, 1, 'one a minute');
  assert.equal((await control('queue-worker', { action: 'rate-limit', task: 'echo', rate: 'none' })).status, 200);
  await eventually('the others to run once the limit is lifted', async () => ((await Promise.all(ids.map(runState))).every((s) => s === 'succeeded') ? true : undefined), 20_000, 100);
});

test('a revoke is kept: a worker started later skips the task, even one revoked before the history saw it sent; a finished or impossible id is refused', async () => {
  const cut = await site.request('POST', `/api/tasks/${encodeURIComponent('3f6c1c1e-…')}/revoke`, {});
  assert.deepEqual([cut.status, (cut.json as ApiError).error.code, (cut.json as ApiError).error.parameter], [400, 'E_BAD_PARAMETER', 'id']);
  assert.match((cut.json as ApiError).error.message, /cut short .*nothing was revoked/);
  // Revoked before it is sent (as when the history has not recorded the send yet): accepted and kept, and said so.
  const early = randomUUID();
  const unknown = await site.request('POST', `/api/tasks/${early}/revoke`, {});
  assert.equal(unknown.status, 202, unknown.body);
  assert.deepEqual([(unknown.json as { known: boolean }).known, (unknown.json as { message: string }).message],
    [false, `no run of ${early} in the task history yet: the revoke is kept, and the task will be skipped if it arrives`]);
  const client = await createClient(loadConfig(site.env), { name: 'revoke-test' });
  try {
    assert.equal(await client.send(reportTask, [], { id: early }), early);
  } finally {
    await client.close();
  }
  // Sent to a queue nobody consumes yet, revoked while no worker takes it, then a new worker comes.
  const report = await send('report', []);
  await eventually('the send to be recorded', async () => ((await runState(report)) === 'sent' ? true : undefined), 10_000, 50);
  const revoked = await site.request('POST', `/api/tasks/${report}/revoke`, {});
  assert.equal(revoked.status, 200, revoked.body);
  assert.ok((revoked.json as { keptMs: number }).keptMs >= 86_400_000, 'kept at least a day');
  const child = spawnWorker('late-worker', 'reports');
  await online('late-worker');
  await eventually('the report to be revoked, not run', async () => ((await runState(report)) === 'revoked' ? true : undefined), 20_000, 100);
  await eventually('the report revoked before it was sent to be skipped too', async () => ((await runState(early)) === 'revoked' ? true : undefined), 20_000, 100);
  const finished = await site.request('POST', `/api/tasks/${report}/revoke`, {});
  assert.deepEqual([finished.status, (finished.json as ApiError).error.code], [409, 'E_REVOKE_REFUSED']);
  assert.match((finished.json as ApiError).error.message, /has finished \(revoked\)/);
  const audit = ((await site.request('GET', '/api/control-actions')).json as { items: { action: string; args: { id?: string } }[] }).items;
  assert.ok(audit.some((a) => a.action === 'revoke' && a.args.id === report), 'the revoke is audited');
  assert.ok(audit.some((a) => a.action === 'revoke' && a.args.id === early && (a.args as { known?: boolean }).known === false && (a as { actor?: string }).actor === 'alice'),
    'the early revoke is audited as unknown then, with the basic-auth user as who');
  child.kill('SIGTERM');
  await exited(child);
});

test('a worker killed with SIGKILL is shown lost within seconds; shutdown from control stops a worker process gracefully', async () => {
  const killed = spawnWorker('doomed-worker');
  await online('doomed-worker');
  const killedAt = Date.now();
  killed.kill('SIGKILL');
  await exited(killed);
  // 3 missed heartbeats would take 90 s here: only the control queue's going can tell this soon.
  await eventually('the killed worker to be lost', async () => ((await workerView('doomed-worker')).status === 'lost' ? true : undefined), 10_000, 100);
  console.log(`lost ${Date.now() - killedAt} ms after SIGKILL (heartbeats every 30 s)`);

  const child = spawnWorker('polite-worker');
  await online('polite-worker');
  const stopping = await control('polite-worker', { action: 'shutdown' });
  assert.equal(stopping.status, 200, stopping.body);
  assert.equal(await exited(child), 0, 'the process exits by itself, cleanly');
  await eventually('the worker to be offline', async () => ((await workerView('polite-worker')).status === 'offline' ? true : undefined), 20_000, 100);
  const gone = await control('no-such-worker', { action: 'shutdown' });
  assert.equal(gone.status, 404);
});
