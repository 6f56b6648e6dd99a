import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { installation, type Installation } from './support.ts';

// The schedule pages in Chromium, on the real servers: pause an entry from the dashboard with a note, see it
// paused, run it now, and see the run in its history with its outcome.

const SCREENSHOTS = new URL('../../../test/e2e/screenshots/', import.meta.url);

let site: Installation;
let browser: Browser;
let page: Page;
const prompts: string[] = [];
const alerts: string[] = [];

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
    if (dialog.type() !== 'prompt') {
      alerts.push(dialog.message());
      void dialog.dismiss();
      return;
    }
    prompts.push(dialog.message());
    void dialog.accept('partner API down, INC-142');
  });
});
after(async () => {
  await browser?.close();
  await site?.close();
});

const shot = (name: string) => page.screenshot({ path: new URL(`${name}.png`, SCREENSHOTS).pathname, fullPage: true });

test('pause an entry from the schedules page with a note, see it paused, run it now from its page and see the run in its history; backfill from its form', async () => {
  const created = await site.request('POST', '/api/schedules', { name: 'echo-daily', task: 'echo', schedule: '0 6 * * *', timezone: 'Europe/Berlin', args: ['daily'], note: 'e2e' });
  assert.equal(created.status, 201, created.body);

  await page.goto(`${site.api.url}/schedules`);
  const row = page.locator('tr[data-entry="echo-daily"]');
  await row.waitFor();
  assert.match(await row.innerText(), /echo-daily\s+runtime[\s\S]*Europe\/Berlin[\s\S]*running/);
  await row.locator('button[data-action="pause"]').click();
  await row.locator('.state.paused').waitFor();
  assert.deepEqual(prompts, ['Why pause echo-daily? (shown to whoever looks next)']);
  assert.equal(await row.locator('.state.paused').getAttribute('title').then((title) => /^by alice at .*: partner API down, INC-142$/.test(title ?? '')), true);
  await shot('schedules');

  await row.locator('a', { hasText: 'echo-daily' }).click();
  await page.locator('[data-paused]').waitFor();
  assert.match(await page.locator('[data-paused]').innerText(), /^Paused by alice at .*: partner API down, INC-142\./);
  assert.equal(((await site.request('GET', '/api/schedules/echo-daily')).json as { paused: { note: string } }).paused.note, 'partner API down, INC-142');

  await page.locator('button[data-action="run-now"]').click();
  await page.locator('[data-result]').filter({ hasText: 'run sent' }).waitFor();
  // The run's fire is recorded from its event and its outcome from the task's; the page reloads on live events.
  const fire = page.locator('tr[data-fire]').filter({ hasText: 'manual' }).first();
  await fire.locator('.state.succeeded').waitFor({ timeout: 15_000 });
  assert.match(await fire.innerText(), /manual\s+sent\s+beat:echo-daily:\S+[\s\S]*succeeded[\s\S]*alice/);
  await shot('schedule-detail');

  // A backfill from the form: two days in the browser's zone hold two of the entry's daily fire times.
  const day = (daysAgo: number) => {
    const at = new Date();
    at.setHours(0, 0, 0, 0);
    at.setDate(at.getDate() - daysAgo);
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${at.getFullYear()}-${pad(at.getMonth() + 1)}-${pad(at.getDate())}T00:00:00`;
  };
  await page.fill('form[aria-label="backfill"] input[name=from]', day(3));
  await page.fill('form[aria-label="backfill"] input[name=to]', day(1));
  await page.click('form[aria-label="backfill"] button');
  const backfilled = page.locator('[data-result]').filter({ hasText: 'backfill:' });
  await backfilled.waitFor();
  const [, fireTimes, sent] = /backfill: (\d+) fire times, (\d+) sent, 0 already there/.exec(await backfilled.innerText()) ?? [];
  assert.ok(Number(fireTimes) >= 2 && sent === fireTimes, await backfilled.innerText());
  await page.locator('tr[data-fire]').filter({ hasText: 'backfill' }).nth(Number(fireTimes) - 1).waitFor({ timeout: 15_000 });

  await page.locator('button[data-action="resume"]').click();
  await page.locator('h2 .state.running').waitFor();
  assert.deepEqual(alerts, [], 'no alert ever ran');
});
