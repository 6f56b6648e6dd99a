import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DeadLetters, type TaskEventInput } from '@nightshift/store';
import { installation, type Installation } from '../support.ts';

// Every page of the dashboard with 10,000 task runs and 1,000 dead letters in the store renders within 1 s (the
// limit issue 17 names): measured in Chromium from the start of the navigation to the page's data on screen, three
// loads a page, the median asserted; and a filter with a sort on the loaded task list, from the typing to the
// answer on screen. The figures are printed, with the task list's API queries beside them.

const OUTPUT = new URL('../../test-output/pages-load/', import.meta.url);
const RUNS = 10_000;
const DEAD_LETTERS = 1_000;
const LIMIT_MS = 1_000;

let site: Installation;
let browser: Browser;
let page: Page;
let detailId = '';

const NAMES = ['reports.generate', 'reports.email', 'billing.charge', 'billing.refund', 'mail.send', 'images.resize', 'search.index', 'users.sync'];
const QUEUES = ['default', 'reports', 'billing', 'mail'];

async function seed(): Promise<void> {
  const now = Date.now();
  const history = site.api.room.taskRuns;
  for (let start = 0; start < RUNS; start += 1_000) {
    const batch: TaskEventInput[] = [];
    for (let i = start; i < start + 1_000; i += 1) {
      const sentMs = now - (RUNS - i) * 300; // spread over the last 50 minutes
      const run = { runId: `load-${String(i).padStart(5, '0')}`, name: NAMES[i % NAMES.length] as string, queue: QUEUES[i % QUEUES.length] as string, maxAttempts: 4, worker: `worker@host-${i % 6}:${1000 + (i % 6)}`, sentAt: new Date(sentMs).toISOString(), args: [i, { tenant: `t${i % 50}` }] };
      const at = (ms: number) => new Date(sentMs + ms).toISOString();
      batch.push({ ...run, state: 'started', at: at(20), attempt: 1 });
      if (i % 10 === 0) {
        const error = { name: 'TimeoutError', message: 'upstream took too long', stack: 'TimeoutError: upstream took too long\n    at call (app.ts:10:5)' };
        batch.push({ ...run, state: 'failed', at: at(120), attempt: 1, error }, { ...run, state: 'retried', at: at(120), attempt: 1 });
        batch.push({ ...run, state: i % 20 === 0 ? 'dead-lettered' : 'succeeded', at: at(260), attempt: 2, runtimeMs: 90, ...(i % 20 === 0 ? { error } : {}) });
      } else {
        batch.push({ ...run, state: 'succeeded', at: at(20 + (i % 97) * 3), attempt: 1, runtimeMs: (i % 97) * 3 });
      }
    }
    await history.record(batch);
  }
  detailId = 'load-09990';
  const deadLetters = new DeadLetters(site.api.room.store);
  for (let i = 0; i < DEAD_LETTERS; i += 1) {
    const id = `load-dl-${i}`;
    const envelope = { v: 1, id, task: 'echo', args: [i], kwargs: {}, attempt: 4, maxAttempts: 4, queue: 'default', sentAt: new Date(now - i * 1000).toISOString(), origin: { type: 'producer', producer: 'load' } };
    await deadLetters.record({ messageId: id, deathMark: `load-${i}`, task: 'echo', queue: 'default', reason: 'failed', lastFailedAt: new Date(now - i * 1000).toISOString(),
      error: { name: 'TimeoutError', message: `upstream took too long (${i})` }, headers: {}, properties: {}, body: Buffer.from(JSON.stringify(envelope)) });
  }
}

before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  // The default poll (the test installation's 200 ms would re-count 10,000 runs five times a second).
  site = await installation({ NIGHTSHIFT_HEALTH_POLL: '5s' }, { listen: true });
  await site.worker({ queues: ['default'] });
  const began = Date.now();
  await seed();
  process.stdout.write(`# seeded ${RUNS} runs and ${DEAD_LETTERS} dead letters in ${Date.now() - began} ms\n`);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ httpCredentials: { username: 'alice', password: 'correct-horse' }, viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  page.on('dialog', (dialog) => void dialog.dismiss());
});
after(async () => {
  await browser?.close();
  await site?.close();
});

const median = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

test('every page renders within 1 s with 10,000 runs and 1,000 dead letters in the store', async () => {
  // Each page, and what shows that its data is on screen.
  // Each entry: a name, a path, what must be on screen, and (optionally) what the person does once it is: then the
  // time counted is that action's, to its answer on screen (a page load and a filter are two waits, each within 1 s).
  const pages: [string, string, (p: Page) => Promise<unknown>, ((p: Page) => Promise<unknown>)?][] = [
    ['overview', '/', (p) => p.locator('.card').filter({ hasText: 'Dead letters pending' }).locator('.n', { hasText: String(DEAD_LETTERS) }).waitFor()],
    ['workers', '/workers', (p) => p.locator('main table tbody tr').first().waitFor()],
    ['tasks', '/tasks', (p) => p.locator('tr[data-run]').nth(49).waitFor()],
    ['task', `/tasks/${detailId}`, (p) => p.locator('table.attempts tbody tr').nth(1).waitFor()],
    ['tasks loaded, then name contains "bill", sorted by runtime', '/tasks', (p) => p.locator('tr[data-run]').nth(49).waitFor(), async (p) => {
      await p.getByLabel('filter by task name').fill('bill');
      await p.locator('button[data-sort=runtime]').click();
      await p.locator('th[aria-sort=descending] button[data-sort=runtime]').waitFor();
      await p.waitForFunction('[...document.querySelectorAll("tr[data-run] td:nth-child(2)")].every((td) => td.textContent.startsWith("billing"))');
    }],
    ['queues', '/queues', (p) => p.locator('main table tbody tr').first().waitFor()],
    ['schedules', '/schedules', (p) => p.locator('tr[data-entry]').first().waitFor()],
    ['dead letters', '/dead-letters', (p) => p.locator('tr[data-dead-letter]').first().waitFor()],
    ['monitor', '/monitor', (p) => p.locator('.charts .uplot').nth(2).waitFor()],
  ];
  // The peer of the same run: the runbook, a static page with no script and no data, says what the machine allows.
  const baseline: number[] = [];
  for (let i = 0; i < 3; i += 1) {
    await page.goto('about:blank');
    const started = performance.now();
    await page.goto(`${site.api.url}/runbook`, { waitUntil: 'commit' });
    await page.locator('h1').waitFor();
    baseline.push(performance.now() - started);
  }
  const figures: string[] = [`${'(peer) the static runbook page'.padEnd(48)} median ${median(baseline).toFixed(0).padStart(5)} ms  (min ${Math.min(...baseline).toFixed(0)}, max ${Math.max(...baseline).toFixed(0)})`];
  const slow: string[] = [];
  for (const [name, path, ready, action] of pages) {
    const times: number[] = [];
    for (let i = 0; i < 3; i += 1) {
      await page.goto('about:blank');
      let started = performance.now();
      await page.goto(`${site.api.url}${path}`, { waitUntil: 'commit' });
      await ready(page);
      if (action) {
        started = performance.now();
        await action(page);
      }
      times.push(performance.now() - started);
    }
    await page.screenshot({ path: new URL(`${name.replace(/\W+/g, '-')}.png`, OUTPUT).pathname, fullPage: false });
    const line = `${name.padEnd(48)} median ${median(times).toFixed(0).padStart(5)} ms  (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)}; ${(median(times) / median(baseline)).toFixed(1)}× the static page)`;
    figures.push(line);
    if (median(times) > LIMIT_MS) slow.push(line);
  }
  process.stdout.write(`# page loads with ${RUNS} runs and ${DEAD_LETTERS} dead letters (Chromium, navigation start to data on screen, 3 loads):\n${figures.map((f) => `#   ${f}`).join('\n')}\n`);
  assert.deepEqual(slow, [], `pages slower than ${LIMIT_MS} ms`);
});

test('the task list\'s queries at 10,000 runs (printed; the page test above asserts)', async () => {
  const queries = ['', 'nameContains=bill', 'nameStartsWith=reports', 'queue=mail', 'state=dead-lettered', 'sort=runtime&order=desc', 'sort=name&order=asc', 'sort=worker&order=asc&nameContains=mail',
    `since=${encodeURIComponent(new Date(Date.now() - 600_000).toISOString())}`, 'id=load-099'];
  const lines: string[] = [];
  for (const query of queries) {
    const times: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const started = performance.now();
      const response = await site.request('GET', `/api/tasks?limit=50&${query}`);
      times.push(performance.now() - started);
      assert.equal(response.status, 200, response.body);
    }
    lines.push(`/api/tasks?${query || '(default)'}`.padEnd(60) + ` median ${median(times).toFixed(1)} ms (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)})`);
  }
  const detail: number[] = [];
  for (let i = 0; i < 5; i += 1) {
    const started = performance.now();
    assert.equal((await site.request('GET', `/api/tasks/${detailId}`)).status, 200);
    detail.push(performance.now() - started);
  }
  lines.push(`/api/tasks/${detailId} (with its retries)`.padEnd(60) + ` median ${median(detail).toFixed(1)} ms`);
  process.stdout.write(`# API with ${RUNS} runs (in-process inject, 5 calls each):\n${lines.map((l) => `#   ${l}`).join('\n')}\n`);
});
