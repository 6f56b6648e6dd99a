import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually } from '@nightshift/test-helpers';
import { installation, type Installation } from './support.ts';

const SCREENSHOTS = new URL('../../../test/e2e/screenshots/', import.meta.url);

let site: Installation;
let browser: Browser;
let page: Page;

before(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  site = await installation({}, { listen: true });
  await site.worker();
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  const context = await browser.newContext({ httpCredentials: { username: 'alice', password: 'correct-horse' }, viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
});
after(async () => {
  await browser?.close();
  await site?.close();
});

test('a running task\'s page shows its progress bar moving without a reload, then the lines it logged', async () => {
  const sent = await site.request('POST', '/api/tasks', { task: 'import-rows', args: [10_000, 12, 500] });
  const { id } = sent.json as { id: string };
  await page.goto(`${site.api.url}/tasks/${id}`);
  const bar = page.locator('[data-progress]');
  await bar.waitFor({ timeout: 15_000 });
  const first = Number(await bar.getAttribute('data-progress'));
  assert.ok(first < 100, `first seen at ${first} %`);
  await page.screenshot({ path: new URL('task-progress.png', SCREENSHOTS).pathname, fullPage: true });
  // Later reports replace it live: the page is not reloaded.
  await eventually('a later report on the page', async () => (Number(await bar.getAttribute('data-progress')) > first ? true : undefined), 15_000);
  assert.match(await bar.innerText(), /\d+ % · rows [\d,]+ of 10,000/);
  await page.locator('.state.succeeded').first().waitFor({ timeout: 20_000 });
  const logs = page.locator('details.logs');
  await logs.waitFor();
  assert.match(await logs.locator('summary').innerText(), /^2 lines logged$/);
  const text = await logs.innerText();
  assert.match(text, /importing 10000 rows/);
  assert.match(text, /0 rows skipped/);
  assert.match(text, /postgres:\/\/importer:\*\*\*@db:5432\/crm/);
  assert.doesNotMatch(await page.content(), /s3cret-pw/);
  await page.screenshot({ path: new URL('task-logs.png', SCREENSHOTS).pathname, fullPage: true });
});
