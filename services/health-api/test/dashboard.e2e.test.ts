import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DeadLetters, ScheduleHealthRecords } from '@nightshift/store';
import { eventually } from '@nightshift/test-helpers';
import { installation, type Installation } from './support.ts';

const SCREENSHOTS = new URL('../../../test/e2e/screenshots/', import.meta.url);
const XSS = '<img src=x onerror=alert(1)>';

let site: Installation;
let browser: Browser;
let page: Page;
const dialogs: string[] = [];

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  site = await installation({}, { listen: true });
  await site.worker();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ httpCredentials: { username: 'alice', password: 'correct-horse' }, viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void (dialog.type() === 'prompt' ? dialog.accept('not needed') : dialog.dismiss());
  });
});
after(async () => {
  await browser?.close();
  await site?.close();
});

const shot = (name: string) => page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });

test('a request without credentials gets 401', async () => {
  const response = await fetch(`${site.api.url}/`);
  assert.equal(response.status, 401);
});

test('log in and see a worker online', async () => {
  await page.goto(`${site.api.url}/workers`);
  await page.getByText('online', { exact: true }).first().waitFor({ timeout: 10_000 });
  await shot('workers');
  await page.goto(`${site.api.url}/`);
  await page.getByText('Workers online').waitFor();
  await shot('overview');
});

test('send a task from the page and watch it reach succeeded without a reload; its argument shows as text', async () => {
  await page.goto(`${site.api.url}/tasks`);
  await page.click('[data-open-send]'); // the send form is behind its own button, apart from the filters
  await page.fill('input[name=task]', 'echo');
  await page.fill('input[name=args]', JSON.stringify([XSS]));
  await page.click('form[aria-label="send a task"] button');
  await page.locator('[data-sent]').filter({ hasText: 'sent' }).waitFor();
  const row = page.locator('tr[data-run]').filter({ hasText: 'echo' }).first();
  await row.locator('.state.succeeded').waitFor({ timeout: 15_000 });
  assert.match(await row.innerText(), /<img src=x onerror=alert\(1\)>/, 'the markup is shown as text');
  assert.equal(await page.locator('img[src=x]').count(), 0, 'no element was made from it');
  await shot('tasks');
});

test('open a failed task\'s traceback', async () => {
  await site.request('POST', '/api/tasks', { task: 'broken' });
  await page.goto(`${site.api.url}/tasks?state=dead-lettered`);
  const row = page.locator('tr[data-run]').filter({ hasText: 'broken' }).first();
  await row.waitFor({ timeout: 15_000 });
  await row.locator('a').click();
  await page.locator('pre.traceback').waitFor();
  assert.match(await page.locator('pre.traceback').innerText(), /PermanentError: card declined/);
  await shot('task-detail');
});

test('requeue a dead letter from the page', async () => {
  const deadLetters = new DeadLetters(site.api.room.store);
  const envelope = { v: 1, id: 'dl-e2e', task: 'echo', args: [1], kwargs: {}, attempt: 1, maxAttempts: 1, queue: 'default', sentAt: new Date().toISOString(), origin: { type: 'producer', producer: 'e2e' } };
  const { id } = await deadLetters.record({ messageId: 'dl-e2e', deathMark: 'e2e', task: 'echo', queue: 'default', reason: 'failed', lastFailedAt: new Date().toISOString(),
    error: { name: 'Error', message: 'once' }, headers: {}, properties: {}, body: Buffer.from(JSON.stringify(envelope)) });
  await page.goto(`${site.api.url}/dead-letters`);
  await shot('dead-letters');
  await page.locator(`tr[data-dead-letter="${id}"] button`, { hasText: 'Requeue' }).click();
  await page.locator('[data-confirm]').click(); // the page's own confirmation, naming the letter
  await page.locator('[data-result]').filter({ hasText: 'requeued' }).waitFor();
  assert.equal((await deadLetters.get(id)).status, 'requeued');
});

test('queues, schedules and monitor pages render', async () => {
  for (const name of ['queues', 'schedules', 'monitor']) {
    await page.goto(`${site.api.url}/${name}`);
    await page.locator('table, .charts').first().waitFor();
    await shot(name);
  }
  await page.goto(`${site.api.url}/schedules`);
  const row = page.locator('tbody tr').filter({ hasText: 'hourly-report' });
  await row.waitFor();
  assert.deepEqual((await row.locator('td').allInnerTexts()).slice(1, 3), ['report', 'reports'], 'the queue its runs are sent to');
  // The alerter's verdict, as its schedule watch saves it (no alerter runs here: written as it would).
  await new ScheduleHealthRecords(site.api.room.store).saveJudgements([{
    entry: 'hourly-report', source: 'code', status: 'overdue', cause: `no worker consuming the queue "reports" ${XSS}`, dueBy: new Date().toISOString(),
    lastSuccessAt: null, lastSuccessFire: null, consecutiveFailures: 0,
  }], 'all');
  await eventually('the health-api to poll it', () => site.api.room.scheduleHealthOf('hourly-report') ?? undefined);
  await page.reload();
  await page.locator('tbody tr[data-entry="hourly-report"] [data-health="overdue"]').waitFor({ timeout: 10_000 });
  assert.match(await row.locator('[data-health]').innerText(), /overdue\s+no worker consuming the queue "reports" <img src=x onerror=alert\(1\)>/, 'the cause is shown as text');
  assert.deepEqual(dialogs, [], 'no alert ever ran');
});
