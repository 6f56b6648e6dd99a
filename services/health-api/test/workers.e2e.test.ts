import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createClient, type Client } from '@nightshift/broker';
import { loadConfig } from '@nightshift/core';
import { linger } from './fixtures/linger-app.ts';
import { appPath, eventually, installation, type Installation } from './support.ts';

// The worker pages in Chromium: the list links to each worker; a worker's running and reserved tasks with their
// runtime and a revoke button; every control asks first and says what came of it; a killed worker shown lost.
const OUTPUT = new URL('../test-output/workers-e2e/', import.meta.url);
const main = fileURLToPath(import.meta.resolve('@nightshift/worker/main'));
const lingerApp = fileURLToPath(new URL('./fixtures/linger-app.ts', import.meta.url));

let site: Installation;
let client: Client;
let browser: Browser;
let page: Page;
/** What the next dialog is answered: `true` accepts, `false` dismisses. */
let answer = true;
const dialogs: string[] = [];
const children = new Set<ChildProcess>();

before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  site = await installation({ NIGHTSHIFT_HEARTBEAT: '30s' }, { listen: true });
  client = await createClient(loadConfig(site.env), { name: 'workers-e2e' });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ httpCredentials: { username: 'alice', password: 'correct-horse' }, viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void (answer ? dialog.accept() : dialog.dismiss());
  });
});
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await browser?.close();
  await client?.close();
  await site?.close();
});

const shot = (name: string) => page.screenshot({ path: new URL(`${name}.png`, OUTPUT).pathname, fullPage: true });
const send = async (task: string, args: unknown[]) => ((await site.request('POST', '/api/tasks', { task, args })).json as { id: string }).id;
const runState = async (id: string) => ((await site.request('GET', `/api/tasks/${id}`)).json as { state?: string }).state;
const status = (selector: string) => page.locator(`${selector} [role=status]`).first();

test('the Workers list links to a worker\'s page, which lists its running task with its runtime; revoke asks, then says what happened', async () => {
  await site.worker({ name: 'page-worker', concurrency: 1, appPath: lingerApp });
  // A minute each: the second waits for the one sandbox.
  const napping = await client.send(linger, [60_000]);
  await eventually('the task to start', async () => ((await runState(napping)) === 'started' ? true : undefined), 20_000, 50);
  const behind = await client.send(linger, [60_000]);
  await page.goto(`${site.api.url}/workers`);
  await page.locator('tr[data-worker="page-worker"] a').click();
  await page.waitForURL(/\/workers\/page-worker$/);
  const running = page.locator(`tr[data-task="${napping}"]`);
  await running.waitFor({ timeout: 20_000 });
  assert.match(await running.innerText(), /linger.*\d+(\.\d)? (ms|s)/s, 'the task and how long it has run');
  await page.locator(`tr[data-task="${behind}"]`).waitFor({ timeout: 10_000 }); // reserved: waiting for the one sandbox
  await shot('worker-page');
  answer = false;
  await running.locator('button[data-revoke]').click();
  assert.match(dialogs.at(-1) ?? '', new RegExp(`Revoke task ${napping}\\? If it is running it is stopped now`));
  assert.equal(await runState(napping), 'started', 'dismissed: nothing happened');
  answer = true;
  await running.locator('button[data-revoke]').click();
  await running.locator('[role=status]').filter({ hasText: 'Revoked.' }).waitFor();
  assert.match(await running.locator('[role=status]').innerText(), /page-worker: terminated/);
  await shot('worker-page-revoked');
  await eventually('the task to be revoked', async () => ((await runState(napping)) === 'revoked' ? true : undefined), 20_000, 100);
  assert.equal((await site.request('POST', `/api/tasks/${behind}/revoke`, { terminate: true })).status, 200, 'the next tests need the sandbox');
});

test('a task\'s page offers Revoke only while it has not finished, asks first, and shows the outcome', async () => {
  const done = await send('echo', ['x']);
  await eventually('the echo to succeed', async () => ((await runState(done)) === 'succeeded' ? true : undefined), 20_000, 100);
  await page.goto(`${site.api.url}/tasks/${done}`);
  await page.locator('h2 .state.succeeded').waitFor();
  assert.equal(await page.locator('button[data-revoke]').count(), 0, 'no Revoke on a finished task');
  await shot('task-finished-no-revoke');
  const waiting = await send('report', []); // its queue has no consumer: it waits
  await eventually('the report to be recorded', async () => ((await runState(waiting)) === 'sent' ? true : undefined), 10_000, 50);
  await page.goto(`${site.api.url}/tasks/${waiting}`);
  answer = true;
  await page.locator('button[data-revoke]').click();
  await status('.revoke').filter({ hasText: 'Revoked.' }).waitFor();
  assert.match(dialogs.at(-1) ?? '', /including workers started later/);
  await shot('task-revoked');
  assert.equal((await site.request('POST', `/api/tasks/${waiting}/revoke`, {})).status, 200, 'not finished until a worker skips it');
});

test('worker controls from the page: each asks, names what will happen, shows the outcome and is recorded', async () => {
  await site.worker({ name: 'control-worker', concurrency: 2 });
  await page.goto(`${site.api.url}/workers/control-worker`);
  await page.locator('button[data-action="pool-grow"]').waitFor();
  answer = true;
  await page.locator('button[data-action="pool-grow"]').click();
  assert.match(dialogs.at(-1) ?? '', /Grow the pool of control-worker from 2 to 3 sandboxes/);
  await status('.controls').filter({ hasText: 'pool grown from 2 to 3 sandboxes' }).waitFor({ timeout: 30_000 });
  await shot('control-pool-grow');
  await page.locator('button[data-action="pool-restart"]').click();
  await status('.controls').filter({ hasText: 'pool restarted' }).waitFor({ timeout: 30_000 });
  await page.fill('input[name=task]', 'echo');
  await page.fill('input[name=rate]', 'fast');
  await page.locator('button[data-action="rate-limit"]').click();
  await page.locator('.controls .error').filter({ hasText: 'rate' }).waitFor();
  await shot('control-rate-limit-refused');
  await page.fill('input[name=rate]', '10/m');
  await page.locator('button[data-action="rate-limit"]').click();
  await status('.controls').filter({ hasText: 'at most 10/m' }).waitFor();
  await page.fill('input[name=queue]', 'reports');
  await page.locator('button[data-action="add-consumer"]').click();
  await status('.controls').filter({ hasText: 'consuming queue "reports"' }).waitFor();
  await page.locator('button[data-cancel="reports"]').click();
  assert.match(dialogs.at(-1) ?? '', /Stop control-worker consuming queue "reports"/);
  await status('.controls').filter({ hasText: 'stopped consuming queue "reports"' }).waitFor();
  await page.locator('table.audit tr').filter({ hasText: 'add-consumer' }).waitFor();
  assert.match(await page.locator('table.audit').innerText(), /alice\s+dashboard\s+pool-grow/);
  await shot('control-audit');
  await page.locator('button[data-action="shutdown"]').click();
  assert.match(dialogs.at(-1) ?? '', /Shut down control-worker\? It takes no new tasks; running ones may finish within its grace period/);
  await status('.controls').filter({ hasText: 'shutting down' }).waitFor();
  await page.locator('h2 .state.offline').waitFor({ timeout: 20_000 });
  await shot('control-shutdown');
});

test('a worker process killed with SIGKILL shows as lost within seconds', async () => {
  const child = spawn(process.execPath, [main, '--app', appPath, '--concurrency', '1', '--queues', 'default', '--name', 'killed-worker'], {
    env: { ...process.env, ...site.env, NIGHTSHIFT_METRICS_PORT: '0', NIGHTSHIFT_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'inherit'],
  });
  children.add(child);
  await page.goto(`${site.api.url}/workers`);
  await page.locator('tr[data-worker="killed-worker"] .state.online').waitFor({ timeout: 120_000 });
  child.kill('SIGKILL');
  // Its heartbeats are 30 s apart: 3 missed would take 90 s.
  await page.locator('tr[data-worker="killed-worker"] .state.lost').waitFor({ timeout: 10_000 });
  await shot('worker-lost');
});

test('autoscale from the page: the bounds are set, the pool follows the load, and the page shows its last change', async () => {
  const started = await site.worker({ name: 'scaling-worker', concurrency: 1, autoscaleKeepalive: '1s' });
  try {
    await page.goto(`${site.api.url}/workers/scaling-worker`);
    await page.locator('[data-autoscale]').filter({ hasText: 'fixed at 1; grow and shrink within 1..2' }).waitFor();
    answer = true;
    await page.fill('input[name=min]', '1');
    await page.fill('input[name=max]', '2');
    await page.locator('button[data-action="autoscale"]').click();
    assert.match(dialogs.at(-1) ?? '', /Keep the pool of scaling-worker between 1 and 2 sandboxes, following the load\? It grows as tasks wait and shrinks when idle/);
    await status('.controls').filter({ hasText: 'pool bounds set to 1..2, following the load' }).waitFor({ timeout: 30_000 });
    // Heartbeats are 30 s apart here: the page learns of the new bounds from the one the worker sends with its answer.
    await page.locator('[data-autoscale]').filter({ hasText: 'follows the load: 1..2 sandboxes, 1 now; shrinks after 1.0 s not full' }).waitFor({ timeout: 10_000 });
    const naps = await Promise.all([1, 2, 3, 4].map(() => send('nap', [1_500])));
    // Heartbeats are 30 s apart here: the page learns of the change from the one the worker sends with it.
    await page.locator('[data-autoscale]').filter({ hasText: /last grown 1 → 2 at .* \(\d tasks wanted a sandbox\)/ }).waitFor({ timeout: 20_000 });
    await shot('worker-autoscale-grown');
    await eventually('the naps to succeed', async () => ((await Promise.all(naps.map(runState))).every((s) => s === 'succeeded') ? true : undefined), 30_000, 100);
    await page.locator('[data-autoscale]').filter({ hasText: /1 now.* last shrunk 2 → 1 at / }).waitFor({ timeout: 20_000 });
    await shot('worker-autoscale-shrunk');
  } finally {
    await started.stop();
  }
});
