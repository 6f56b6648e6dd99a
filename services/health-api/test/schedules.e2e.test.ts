import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { installation, type Installation } from './support.ts';

// The schedule pages in Chromium, on the real servers: pause an entry from the dashboard with a note, see it
// paused, run it now, and see the run in its history with its outcome; create a runtime entry from the form, change
// it, lose a race to a change made meanwhile without overwriting it, and remove it after confirming.

const SCREENSHOTS = new URL('../../../test/e2e/screenshots/', import.meta.url);

let site: Installation;
let browser: Browser;
let page: Page;
const prompts: string[] = [];
const alerts: string[] = [];
const confirms: string[] = [];
/** How the next confirmations are answered, in order: true accepts, false cancels. */
const confirmAnswers: boolean[] = [];

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
    if (dialog.type() === 'confirm') {
      confirms.push(dialog.message());
      void (confirmAnswers.shift() === true ? dialog.accept() : dialog.dismiss());
      return;
    }
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

interface Entry { version: number; note: string | null; updatedBy: string | null; definition: Record<string, unknown> }
const entry = async (name: string) => {
  const answer = await site.request('GET', `/api/schedules/${name}`);
  return { status: answer.status, ...(answer.json as Entry) };
};

test('create a runtime entry from the form (a bad cron and a taken name refused at their fields), edit it, lose a race to a change made meanwhile without overwriting it, remove it after confirming', async () => {
  await page.goto(`${site.api.url}/schedules`);
  await page.click('button[data-action="new"]');
  const form = page.locator('form[aria-label="new schedule"]');
  await form.locator('input[name=name]').fill('hourly-report');
  await form.locator('select[name=task]').selectOption('echo');
  await form.locator('input[name=schedule]').fill('0 0 30 feb *');
  await form.locator('input[name=timezone]').fill('Europe/Berlin');
  await form.locator('input[name=args]').fill('["made"]');
  await form.locator('input[name=note]').fill('from the form');
  await form.locator('button', { hasText: 'Create' }).click();
  const refusal = form.locator('[data-problem]');
  await refusal.waitFor();
  assert.deepEqual([await refusal.getAttribute('data-problem'), await refusal.count()], ['schedule', 1], await refusal.innerText());
  assert.match(await refusal.innerText(), /30 feb/);
  await shot('schedule-new-refused');

  await form.locator('input[name=schedule]').fill('15 7 * * *');
  await form.locator('button', { hasText: 'Create' }).click();
  await form.locator('[data-problem="name"]').filter({ hasText: 'E_SCHEDULE_NAME_TAKEN' }).waitFor();
  assert.equal(await form.locator('[data-problem]').count(), 1, 'the schedule field is no longer at fault');
  assert.equal((await entry('hourly-report')).definition.task, 'report', 'the code\'s entry is untouched');

  await form.locator('input[name=name]').fill('echo-edit');
  await form.locator('button', { hasText: 'Create' }).click();
  await page.locator('[data-result]').filter({ hasText: 'echo-edit created' }).waitFor();
  assert.equal(await form.count(), 0, 'the form closed');
  const row = page.locator('tr[data-entry="echo-edit"]');
  await row.waitFor();
  assert.match(await row.innerText(), /echo-edit\s+runtime\s+echo\s+default[\s\S]*Europe\/Berlin/);
  const created = await entry('echo-edit');
  assert.deepEqual([created.version, created.note, created.definition], [1, 'from the form', {
    name: 'echo-edit', task: 'echo', schedule: '15 7 * * *', args: ['made'], kwargs: {}, misfire: 'once', timezone: 'Europe/Berlin', overlap: 'allow',
  }]);

  // Edit: the form holds the entry's definition; the change saves what differs, against the version shown.
  await row.locator('a', { hasText: 'echo-edit' }).click();
  await page.click('button[data-action="edit"]');
  const edit = page.locator('form[aria-label="edit echo-edit"]');
  assert.deepEqual(await Promise.all(['name', 'schedule', 'timezone', 'args', 'note'].map((field) => edit.locator(`input[name=${field}]`).inputValue())),
    ['echo-edit', '15 7 * * *', 'Europe/Berlin', '["made"]', 'from the form']);
  assert.equal(await edit.locator('select[name=task]').inputValue(), 'echo');
  await edit.locator('input[name=schedule]').fill('45 7 * * *');
  await edit.locator('select[name=overlap]').selectOption('skip');
  await edit.locator('input[name=jitter]').fill('30s');
  await edit.locator('button', { hasText: 'Save against version 1' }).click();
  await page.locator('[data-result]').filter({ hasText: 'echo-edit saved: version 2' }).waitFor();
  const edited = await entry('echo-edit');
  assert.deepEqual([edited.version, edited.updatedBy, edited.definition], [2, 'alice', {
    name: 'echo-edit', task: 'echo', schedule: '45 7 * * *', args: ['made'], kwargs: {}, misfire: 'once', timezone: 'Europe/Berlin', overlap: 'skip', jitter: '30s',
  }]);

  // Someone changes it through the API while the form is open: the save is refused, said so, and nothing is overwritten.
  await page.click('button[data-action="edit"]');
  await edit.locator('input[name=jitter]').fill('1m');
  const meanwhile = await site.request('PATCH', '/api/schedules/echo-edit', { schedule: '50 7 * * *', note: 'moved by bob' }, { 'if-match': '"2"' });
  assert.equal(meanwhile.status, 200, meanwhile.body);
  await edit.locator('button', { hasText: 'Save against version 2' }).click();
  const conflict = edit.locator('[data-conflict]');
  await conflict.waitFor();
  assert.match(await conflict.innerText(), /^Not saved: someone changed echo-edit meanwhile\. You edited version 2; it is at version 3 now,\s+changed by alice/);
  await shot('schedule-edit-conflict');
  const kept = await entry('echo-edit');
  assert.deepEqual([kept.version, kept.definition.schedule, kept.definition.jitter, kept.note], [3, '50 7 * * *', '30s', 'moved by bob'], 'their change stands');
  await conflict.locator('button[data-action="reload-entry"]').click();
  await edit.locator('h3', { hasText: 'version 3' }).waitFor();
  assert.deepEqual(await Promise.all(['schedule', 'jitter', 'note'].map((field) => edit.locator(`input[name=${field}]`).inputValue())), ['50 7 * * *', '30s', 'moved by bob']);
  await edit.locator('input[name=jitter]').fill('1m');
  await edit.locator('button', { hasText: 'Save against version 3' }).click();
  await page.locator('[data-result]').filter({ hasText: 'echo-edit saved: version 4' }).waitFor();
  const merged = await entry('echo-edit');
  assert.deepEqual([merged.definition.schedule, merged.definition.jitter, merged.note], ['50 7 * * *', '1m', 'moved by bob']);

  // Remove asks first, naming the entry: cancelled, it stays; confirmed, it is gone and the list says so.
  confirmAnswers.push(false);
  await page.click('button[data-action="remove"]');
  assert.equal(confirms.length, 1);
  assert.equal((await entry('echo-edit')).status, 200, 'a cancelled removal removes nothing');
  confirmAnswers.push(true);
  await page.click('button[data-action="remove"]');
  await page.locator('[data-result]').filter({ hasText: 'echo-edit removed' }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/schedules');
  assert.deepEqual(confirms, Array(2).fill('Remove the schedule entry "echo-edit"? Beat sends no more of its runs; this cannot be undone.'));
  assert.equal((await entry('echo-edit')).status, 404);
  await page.locator('tr[data-entry="hourly-report"]').waitFor();
  assert.equal(await page.locator('tr[data-entry="echo-edit"]').count(), 0);

  // An entry of the code says where it is changed, where Edit and Remove would be.
  await page.goto(`${site.api.url}/schedules/hourly-report`);
  await page.locator('[data-code-entry]').waitFor();
  assert.equal(await page.locator('[data-code-entry]').innerText(), 'defined in the app\'s code: changed there, not here');
  assert.equal(await page.locator('button[data-action="edit"], button[data-action="remove"]').count(), 0);
  assert.deepEqual(alerts, [], 'no alert ever ran');
});
