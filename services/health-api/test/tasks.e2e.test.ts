import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { eventually, installation, type Installation } from './support.ts';

// The tasks pages in Chromium, on the real servers, as an on-call engineer uses them: the overview's retries,
// the monitor's axes, a task's attempts, the list's filters, sort, ids and times, retrying a run, the runbook link.

const OUTPUT = new URL('../test-output/tasks-e2e/', import.meta.url);

let site: Installation;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const confirms: string[] = [];

before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  site = await installation({}, { listen: true });
  await site.worker({ queues: ['default'] });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  // A viewer in Berlin (UTC+01:00 in winter), so that "the viewer's zone" differs from UTC.
  context = await browser.newContext({ httpCredentials: { username: 'alice', password: 'correct-horse' }, viewport: { width: 1440, height: 1000 }, timezoneId: 'Europe/Berlin' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: site.api.url });
  page = await context.newPage();
  page.on('dialog', (dialog) => {
    confirms.push(dialog.message());
    void (dialog.type() === 'confirm' ? dialog.accept() : dialog.dismiss());
  });
});
after(async () => {
  await browser?.close();
  await site?.close();
});

const shot = (name: string) => page.screenshot({ path: new URL(`${name}.png`, OUTPUT).pathname, fullPage: true });
const runOf = async (id: string) => (await site.request('GET', `/api/tasks/${encodeURIComponent(id)}`)).json as { state: string; origin: unknown };
async function sendAndWait(task: string, args: unknown[], state: string): Promise<string> {
  const sent = await site.request('POST', '/api/tasks', { task, args });
  assert.equal(sent.status, 202, sent.body);
  const { id } = sent.json as { id: string };
  await eventually(`${task} to be ${state}`, async () => ((await runOf(id)).state === state ? true : undefined), 30_000);
  return id;
}

let flaky = '';

test('Overview\'s "Retried (1h)" counts the four retries of a task that then succeeded', async () => {
  flaky = await sendAndWait('flaky', [4], 'succeeded');
  await page.goto(`${site.api.url}/`);
  const card = page.locator('.card').filter({ hasText: 'Retried (1h)' });
  await card.locator('.n', { hasText: /^4$/ }).waitFor({ timeout: 15_000 });
  await shot('overview');
});

test('a five-attempt task\'s page summarises each attempt on one line, its stack one click away', async () => {
  await page.goto(`${site.api.url}/tasks/${flaky}`);
  const rows = page.locator('table.attempts tbody tr');
  await rows.nth(4).waitFor();
  assert.equal(await rows.count(), 5, 'one row per attempt');
  for (let i = 0; i < 4; i += 1) {
    const cells = await rows.nth(i).locator('td').allInnerTexts();
    assert.equal(cells[0], String(i + 1));
    assert.equal(cells[1], 'retried', 'how the attempt ended');
    assert.match(cells[2] ?? '', /\S/, 'the worker');
    assert.match(cells[4] ?? '', /\d+ ms|\d\.\d s/, 'its duration');
    assert.match(cells[5] ?? '', new RegExp(`^Error: upstream timeout on attempt ${i + 1}\\s+stack$`), 'the error class and message, the stack folded');
  }
  assert.equal((await rows.nth(4).locator('td').allInnerTexts())[1], 'succeeded');
  // The worker's name stays on one line (it wrapped three letters a line).
  // (Page code is given as text: this file is type-checked without the DOM's types.)
  const lines = await page.evaluate<number>(`(() => {
    const range = document.createRange();
    range.selectNodeContents(document.querySelector('table.attempts tbody tr td:nth-child(3)'));
    return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
  })()`);
  assert.equal(lines, 1, 'the worker\'s name is on one line');
  const stack = rows.first().locator('details.stack');
  assert.equal(await stack.locator('pre').isVisible(), false, 'the stack is folded');
  assert.doesNotMatch(await page.locator('main').innerText(), /"stack"|\{"error"/, 'no raw JSON on the page');
  const pageHeight = await page.evaluate<number>('document.documentElement.scrollHeight');
  assert.ok(pageHeight < 1600, `the page is ${pageHeight} px tall (it was 3,500 px)`);
  await stack.locator('summary').click();
  assert.match(await stack.locator('pre').innerText(), /Error: upstream timeout on attempt 1\n\s+at /, 'one click shows the stack');
  await shot('task-attempts');
});

test('the Monitor shows the retries, and its runtime axis has room for "10,000"', async () => {
  // Runs that took 12 s, as the recorder writes them, so the runtime axis reaches five digits.
  const now = Date.now();
  await site.api.room.taskRuns.record([0, 1, 2].map((i) => ({
    runId: `slow-${i}`, name: 'nap', state: 'succeeded' as const, attempt: 1, queue: 'default', worker: 'w', at: new Date(now - 60_000 * i).toISOString(),
    sentAt: new Date(now - 60_000 * i - 20_000).toISOString(), runtimeMs: 12_000 + i * 1000,
  })));
  await page.goto(`${site.api.url}/monitor`);
  await page.locator('.charts .uplot').nth(1).waitFor();
  const axes = await page.evaluate<{ size: number; labels: string[]; widest: number; retried: (number | null)[] }[]>(`[...document.querySelectorAll('.charts > .panel')].map((panel) => {
    const plot = panel.plot;
    const axis = plot.axes[1];
    const ctx = document.createElement('canvas').getContext('2d');
    ctx.font = axis.font[0];
    const widest = Math.max(...axis._values.map((v) => ctx.measureText(v).width / (axis.font[1] / axis.font[2])));
    return { size: axis._size, labels: axis._values, widest, retried: plot.data[3] ?? [] };
  })`);
  const runtime = axes[1];
  assert.ok(runtime !== undefined);
  assert.ok(runtime.labels.some((label) => /\d{1,3},\d{3}/.test(label)), `five-digit labels: ${runtime.labels.join(' ')}`);
  // uPlot draws a label right-aligned at the axis's width less its ticks (10 px) and gap (5 px): wider is cut.
  assert.ok(runtime.widest <= runtime.size - 15, `the widest label (${runtime.widest.toFixed(1)} px) fits the axis (${runtime.size} px less 15 px of ticks and gap)`);
  const retried = (axes[0]?.retried ?? []).reduce((sum: number, n: number | null) => sum + (n ?? 0), 0);
  assert.equal(retried, 4, 'the retried series has the four retries');
  await shot('monitor');
});

test('the send form is apart from the filters, behind its own button, with its own labels; Enter in the name filter sends nothing', async () => {
  await page.goto(`${site.api.url}/tasks`);
  await page.locator('tr[data-run]').first().waitFor();
  assert.equal(await page.locator('form[aria-label="send a task"]').count(), 0, 'no send form until asked for');
  const before = ((await site.request('GET', '/api/tasks?limit=500')).json as { items: unknown[] }).items.length;
  const nameFilter = page.getByLabel('filter by task name');
  await nameFilter.fill('lak');
  await nameFilter.press('Enter');
  await page.waitForTimeout(500);
  assert.equal(((await site.request('GET', '/api/tasks?limit=500')).json as { items: unknown[] }).items.length, before, 'Enter in the filter sent no task');
  // A part of the name finds it.
  await eventually('only flaky rows', async () => {
    const names = await page.locator('tr[data-run] td:nth-child(2)').allInnerTexts();
    return names.length > 0 && names.every((n) => n === 'flaky') ? true : undefined;
  });
  await page.getByRole('button', { name: 'Send a task…' }).click();
  const send = page.locator('form[aria-label="send a task"]');
  await send.getByLabel('Task to send').fill('echo');
  await send.getByLabel('Arguments (JSON array)').fill('["labelled"]');
  await shot('tasks-send-form');
  await send.getByLabel('Task to send').press('Enter');
  await send.locator('[data-sent]').filter({ hasText: 'sent' }).waitFor();
  const count = async () => ((await site.request('GET', '/api/tasks?limit=500')).json as { items: unknown[] }).items.length;
  await eventually('the sent task to be recorded', async () => ((await count()) > before ? true : undefined));
  await page.waitForTimeout(500);
  assert.equal(await count(), before + 1, 'one task sent');
});

test('ids are whole and copyable; times are ISO with the viewer\'s zone, switchable to UTC and remembered', async () => {
  await page.goto(`${site.api.url}/tasks`);
  const row = page.locator(`tr[data-run="${flaky}"]`);
  await row.waitFor();
  assert.equal(await row.locator('td.id a').innerText(), flaky, 'the whole id');
  await row.getByRole('button', { name: `copy ${flaky}` }).click();
  assert.equal(await page.evaluate<string>('navigator.clipboard.readText()'), flaky, 'copied');
  const sent = () => row.locator('td').nth(7).innerText();
  assert.match(await sent(), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+01:00$/, 'the viewer\'s zone (Berlin)');
  await page.getByLabel('time zone').selectOption('utc');
  assert.match(await sent(), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/, 'UTC');
  const utc = await sent();
  const sentAt = ((await site.request('GET', `/api/tasks/${flaky}`)).json as { sentAt: string }).sentAt;
  assert.equal(utc, `${sentAt.slice(0, 19)}Z`, 'the same instant');
  await page.reload();
  await row.waitFor();
  assert.match(await sent(), /Z$/, 'remembered after a reload');
  await shot('tasks-utc');
  await page.getByLabel('time zone').selectOption('local');
});

test('sort by a column; filter by queue and by a time range', async () => {
  await site.request('POST', '/api/tasks', { task: 'report', args: [] }); // waits in "reports"
  await sendAndWait('echo', ['a'], 'succeeded');
  await sendAndWait('nap', [1], 'succeeded');
  await page.goto(`${site.api.url}/tasks`);
  await page.locator('tr[data-run]').first().waitFor();
  await page.locator('button[data-sort=name]').click();
  await page.locator('th[aria-sort=ascending] button[data-sort=name]').waitFor();
  await eventually('rows by name', async () => {
    const names = await page.locator('tr[data-run] td:nth-child(2)').allInnerTexts();
    return names.length >= 3 && names.join() === [...names].sort().join() && new Set(names).size >= 3 ? true : undefined;
  });
  await page.locator('button[data-sort=name]').click();
  await page.locator('th[aria-sort=descending] button[data-sort=name]').waitFor();
  await eventually('rows by name, Z to A', async () => {
    const names = await page.locator('tr[data-run] td:nth-child(2)').allInnerTexts();
    return names.length >= 3 && names.join() === [...names].sort().reverse().join() ? true : undefined;
  });
  await page.locator('select[name=queue]').selectOption('reports');
  await eventually('only the reports queue', async () => {
    const queues = await page.locator('tr[data-run] td:nth-child(4)').allInnerTexts();
    return queues.length > 0 && queues.every((q) => q === 'reports') ? true : undefined;
  });
  await page.locator('select[name=queue]').selectOption('');
  await page.locator('select[name=range]').selectOption('custom');
  await page.locator('input[name=from]').fill('2001-01-01T00:00:00');
  await page.locator('input[name=to]').fill('2001-01-02T00:00:00');
  await page.locator('[data-empty]').waitFor();
  assert.equal(await page.locator('tr[data-run]').count(), 0, 'nothing was sent in 2001');
  await page.locator('select[name=range]').selectOption('15m');
  await page.locator('tr[data-run]').first().waitFor();
  await shot('tasks-sorted');
});

test('retry a dead-lettered task from its page, after confirming; the new run and the old one link to each other', async () => {
  const id = await sendAndWait('broken', [{ order: 42 }], 'dead-lettered');
  await page.goto(`${site.api.url}/tasks/${id}`);
  await page.locator('button[data-retry]').click();
  const result = page.locator('[data-result]').filter({ hasText: 'retried as' });
  await result.waitFor();
  assert.match(confirms.at(-1) ?? '', new RegExp(`Retry broken ${id}\\?`), 'the confirmation names the task and the run');
  const newId = await result.locator('a').innerText();
  assert.notEqual(newId, id);
  await result.locator('a').click();
  await page.locator('[data-origin=retry]').waitFor();
  assert.equal(await page.locator('[data-origin=retry]').innerText(), `retry of ${id} by alice`);
  assert.match(await page.locator('table.definition').innerText(), /args\s+\[\{"order":42\}\]/, 'the same arguments');
  await shot('task-retry');
  await page.locator('[data-origin=retry] a').click();
  await page.locator('[data-field=retries]').filter({ hasText: newId }).waitFor();
  assert.equal(await page.locator('button[data-retry]').count(), 1, 'still retryable: it is dead-lettered');
  await page.goto(`${site.api.url}/tasks/${flaky}`);
  await page.locator('table.attempts').waitFor();
  assert.equal(await page.locator('button[data-retry]').count(), 0, 'a run that succeeded offers no retry');
});

test('the runbook is in the menu', async () => {
  await page.goto(`${site.api.url}/`);
  const link = page.locator('header nav a', { hasText: 'Runbook' });
  assert.equal(await link.getAttribute('href'), '/runbook');
  const [runbook] = await Promise.all([context.waitForEvent('page'), link.click()]);
  await runbook.locator('h1', { hasText: 'Runbook' }).waitFor();
  await runbook.close();
});
