import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Broker, brokerOptions } from '@nightshift/broker';
import { loadHealthApiConfig } from '@nightshift/health-api';
import { DeadLetters } from '@nightshift/store';
import { eventually } from '@nightshift/test-helpers';
import { echoDeadLetter } from './fixtures/dead-letters.ts';
import { installation, type Installation } from './support.ts';

// The Queues and Dead letters pages, driven in Chromium: each action confirmed in the page, screenshots of each step.
const OUTPUT = new URL('../test-output/control-queues/', import.meta.url);

let site: Installation;
let browser: Browser;
let page: Page;
let prefix: string;
let deadLetters: DeadLetters;
const nativeDialogs: string[] = [];

before(async () => {
  mkdirSync(OUTPUT, { recursive: true });
  site = await installation({ NIGHTSHIFT_RETRY_LADDER: '1s,1h' }, { listen: true });
  prefix = site.env.NIGHTSHIFT_PREFIX as string;
  deadLetters = new DeadLetters(site.api.room.store);
  await site.worker();
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const context = await browser.newContext({ httpCredentials: { username: 'alice', password: 'correct-horse' }, viewport: { width: 1440, height: 1000 } });
  page = await context.newPage();
  page.on('dialog', (dialog) => {
    nativeDialogs.push(dialog.message());
    void dialog.dismiss();
  });
});
after(async () => {
  await browser?.close();
  await site?.close();
});

const shot = (name: string) => page.screenshot({ path: new URL(`${name}.png`, OUTPUT).pathname, fullPage: true });
const depthOf = async (brokerName: string) => {
  const broker = await Broker.connect(brokerOptions(loadHealthApiConfig(site.env).core, 'test'));
  try {
    return (await broker.withChannel((channel) => channel.checkQueue(brokerName))).messageCount;
  } finally {
    await broker.close();
  }
};

test('the Queues page shows the retry ladder and the dead-letters queue; a delayed task is run now from its step\'s page', async () => {
  const { id } = (await site.request('POST', '/api/tasks', { task: 'echo', args: ['promoted'], countdown: '2h' })).json as { id: string };
  const step = `${prefix}.retry.1h`;
  await eventually('the delayed task in its step', async () => ((await depthOf(step)) === 1 ? true : undefined));
  await page.goto(`${site.api.url}/queues`);
  await page.locator(`table[data-kind="retry"] tr[data-queue="${step}"]`).waitFor();
  await page.locator(`table[data-kind="dead-letters"] tr[data-queue="${prefix}.dead-letters"]`).waitFor();
  await shot('queues');
  await page.locator(`tr[data-queue="${step}"] a`).click();
  const row = page.locator(`tr[data-waiting="${id}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /echo[\s\S]*\["promoted"\]/);
  await shot('retry-step');
  await row.getByRole('button', { name: 'Run now' }).click();
  assert.match(await page.locator('[data-confirm-text]').innerText(), new RegExp(`echo ${id} is due .* goes to queue "default" now`));
  await shot('promote-confirm');
  await page.locator('[data-confirm]').click();
  await page.locator('[data-result]').filter({ hasText: `${id} sent to default` }).waitFor();
  await eventually('the promoted task to succeed', async () => ((await site.request('GET', `/api/tasks/${id}`)).json as { state: string }).state === 'succeeded' || undefined);
  assert.equal(await page.locator(`tr[data-waiting="${id}"]`).count(), 0);
  await shot('promoted');
});

test('purge a queue: the confirmation names the count, cancel keeps them, confirm deletes them', async () => {
  for (let i = 0; i < 2; i += 1) await site.request('POST', '/api/tasks', { task: 'report', args: [] });
  await eventually('two reports waiting', async () => ((await depthOf(`${prefix}.q.reports`)) === 2 ? true : undefined));
  // The page's depth comes from the management API, whose figures lag the queue by seconds (more on a loaded
  // machine: one CI run missed a 10 s wait): the page is loaded again until it has caught up.
  await eventually('the queue page to show the 2 waiting', async () => {
    await page.goto(`${site.api.url}/queues/reports`);
    return page.locator('[data-depth]').filter({ hasText: '2' }).waitFor({ timeout: 5_000 }).then(() => true, () => undefined);
  }, 45_000, 0);
  await page.locator('[data-purge]').click();
  assert.match(await page.locator('[data-confirm-text]').innerText(), /deletes the 2 messages waiting in .*\.q\.reports/);
  await shot('purge-confirm');
  await page.getByRole('button', { name: 'Cancel' }).click();
  assert.equal(await depthOf(`${prefix}.q.reports`), 2, 'cancelled: nothing purged');
  await page.locator('[data-purge]').click();
  await page.getByRole('button', { name: 'Purge 2 messages' }).click();
  await page.locator('[data-result]').filter({ hasText: 'purged 2 messages' }).waitFor();
  assert.equal(await depthOf(`${prefix}.q.reports`), 0);
  await page.getByText('"messages":2').waitFor();
  await shot('purged');
});

test('dead letters do not move under the pointer: a new one is announced, and Ignore lands on the row that was hovered', async () => {
  const first = await deadLetters.record(echoDeadLetter(['a']));
  const second = await deadLetters.record(echoDeadLetter(['b']));
  await page.goto(`${site.api.url}/dead-letters`);
  const rows = page.locator('tr[data-dead-letter]');
  await rows.first().waitFor();
  const before = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-dead-letter')));
  assert.deepEqual(before.slice(0, 2), [second.id, first.id]);
  await rows.first().hover();
  const arrived = await deadLetters.record(echoDeadLetter(['c']));
  await page.locator('[data-new-letters]').filter({ hasText: '1 new, show' }).waitFor({ timeout: 10_000 });
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-dead-letter'))), before, 'the rows stayed where they were');
  await shot('dead-letters-new-announced');
  await rows.first().getByRole('button', { name: 'Ignore' }).click();
  assert.match(await page.locator('[data-confirm-text]').innerText(), new RegExp(`#${second.id} \\(echo, TimeoutError\\)`));
  await page.fill('.confirm input[name=note]', 'customer deleted');
  await shot('dead-letter-ignore-confirm');
  await page.locator('[data-confirm]').click();
  await page.locator('[data-result]').filter({ hasText: `#${second.id} ignored` }).waitFor();
  assert.equal((await deadLetters.get(second.id)).status, 'ignored');
  assert.equal((await deadLetters.get(second.id)).statusNote, 'customer deleted');
  assert.equal((await deadLetters.get(arrived.id)).status, 'pending', 'the newly arrived letter was not touched');
  await page.locator('[data-new-letters]').click();
  await page.locator(`tr[data-dead-letter="${arrived.id}"]`).waitFor();
  await shot('dead-letters-shown');
});

test('a dead letter\'s page: args, stack, edit the args and requeue; the audit trail and the replay link show', async () => {
  const { id } = await deadLetters.record(echoDeadLetter([{ month: '2026-13' }]));
  await page.goto(`${site.api.url}/dead-letters/${id}`);
  await page.locator('[data-args]').filter({ hasText: '2026-13' }).waitFor();
  assert.match(await page.locator('pre.traceback').innerText(), /at fetch \(report\.ts/);
  await shot('dead-letter-detail');
  await page.locator('[data-edit]').click();
  await page.fill('.confirm textarea[name=args]', '[{"month":"2026-12"}]');
  await page.fill('.confirm input[name=note]', 'month 13 does not exist');
  await shot('dead-letter-edit-confirm');
  await page.locator('[data-confirm]').click();
  await page.locator('[data-result]').filter({ hasText: 'requeued as' }).waitFor();
  const reviews = page.locator('table[data-reviews] tbody tr');
  await reviews.nth(1).waitFor();
  assert.match(await reviews.nth(0).innerText(), /edited\s+alice\s+month 13 does not exist\s+args \[\{"month":"2026-13"\}\] → \[\{"month":"2026-12"\}\]/);
  assert.match(await reviews.nth(1).innerText(), /requeued\s+alice/);
  const replayId = (await deadLetters.get(id)).replayId ?? '';
  await page.locator('[data-replay] a').filter({ hasText: replayId }).click();
  await page.waitForURL(`**/tasks/${replayId}`);
  await page.getByText('2026-12').first().waitFor({ timeout: 15_000 });
  await shot('dead-letter-replay-run');
  // The task page ↔ dead letter ↔ replay: from the replay's run back to its dead letter, then to the task that died.
  await page.locator('[data-replay-of]').filter({ hasText: `replay of dead letter #${id}` }).click();
  await page.waitForURL(`**/dead-letters/${id}`);
  await page.locator('h2').filter({ hasText: `Dead letter #${id}` }).waitFor();
});

test('a task that died links to its dead letter, and the dead letter back to the task', async () => {
  const { id: taskId } = (await site.request('POST', '/api/tasks', { task: 'broken', args: [] })).json as { id: string };
  await eventually('the run dead-lettered', async () => ((await site.request('GET', `/api/tasks/${taskId}`)).json as { state: string }).state === 'dead-lettered' || undefined);
  // No alerter runs here: its row, as the alerter stores it.
  const body = Buffer.from(JSON.stringify({ v: 1, id: taskId, task: 'broken', args: [], kwargs: {}, attempt: 1, maxAttempts: 1, queue: 'default', sentAt: new Date().toISOString(), origin: { type: 'producer', producer: 'e2e' } }));
  const { id } = await deadLetters.record(echoDeadLetter([], {}, { messageId: taskId, task: 'broken', deathMark: taskId, body }));
  await page.goto(`${site.api.url}/tasks/${taskId}`);
  await page.locator('[data-dead-letter-link]').filter({ hasText: `dead letter #${id} (pending)` }).click();
  await page.waitForURL(`**/dead-letters/${id}`);
  await page.locator('table.definition a').filter({ hasText: taskId }).click();
  await page.waitForURL(`**/tasks/${taskId}`);
  await shot('task-dead-letter-link');
});

test('bulk requeue by filter: the count before confirming, then the paced progress to the end', async () => {
  for (let i = 0; i < 6; i += 1) await deadLetters.record(echoDeadLetter([`bulk-${i}`], {}, { task: 'echo', error: { name: 'BulkError', message: 'upstream down' } }));
  await page.goto(`${site.api.url}/dead-letters`);
  await page.locator('tr[data-dead-letter]').first().waitFor();
  await page.fill('input[name=errorClass]', 'BulkError');
  await eventually('the six of them listed', async () => ((await page.locator('tr[data-dead-letter]').count()) === 6 ? true : undefined));
  await page.locator('[data-bulk-requeue]').click();
  assert.match(await page.locator('[data-confirm-text]').innerText(), /^6 pending dead letters match \(error BulkError\)/);
  await page.fill('.confirm input[name=perSecond]', '4');
  await shot('bulk-requeue-confirm');
  await page.getByRole('button', { name: 'Requeue 6' }).click();
  await page.locator('[data-progress]').waitFor();
  await shot('bulk-requeue-progress');
  await page.locator('[data-bulk="finished"] [data-progress]').filter({ hasText: '6 of 6 requeued (4/s)' }).waitFor({ timeout: 20_000 });
  await shot('bulk-requeue-done');
  assert.equal(await deadLetters.count({ errorClass: 'BulkError', status: 'pending' }), 0);
  assert.deepEqual(nativeDialogs, [], 'no browser dialog: every confirmation is in the page');
});

test('a bulk requeue started elsewhere (another tab, before a restart) is shown with its progress and who started it', async () => {
  for (let i = 0; i < 3; i += 1) await deadLetters.record(echoDeadLetter([`elsewhere-${i}`], {}, { task: 'echo', error: { name: 'ElsewhereError', message: 'upstream down' } }));
  const started = await site.request('POST', '/api/dead-letters/bulk/requeue', { errorClass: 'ElsewhereError', limit: 3, perSecond: 1 });
  assert.equal(started.status, 202, started.body);
  await page.goto(`${site.api.url}/dead-letters`);
  await page.locator('[data-bulk="running"] [data-bulk-by]').filter({ hasText: /^started by alice at / }).waitFor();
  await shot('bulk-requeue-elsewhere');
  await page.locator('[data-bulk="finished"] [data-progress]').filter({ hasText: '3 of 3 requeued (1/s)' }).waitFor({ timeout: 20_000 });
});

test('bulk ignore by filter: the count before confirming, the note kept with each', async () => {
  const ids: string[] = [];
  for (let i = 0; i < 4; i += 1) ids.push((await deadLetters.record(echoDeadLetter([`ignore-${i}`], {}, { task: 'echo', error: { name: 'NoiseError', message: 'partner noise' } }))).id);
  await page.goto(`${site.api.url}/dead-letters`);
  await page.locator('tr[data-dead-letter]').first().waitFor();
  await page.fill('input[name=errorClass]', 'NoiseError');
  await eventually('the four of them listed', async () => ((await page.locator('tr[data-dead-letter]').count()) === 4 ? true : undefined));
  await page.locator('[data-bulk-ignore]').click();
  assert.match(await page.locator('[data-confirm-text]').innerText(), /^4 pending dead letters match \(error NoiseError\)\. They are set aside with your note\./);
  await page.fill('.confirm input[name=note]', 'partner noise, INC-150');
  await shot('bulk-ignore-confirm');
  await page.getByRole('button', { name: 'Ignore 4' }).click();
  await page.locator('[data-result]').filter({ hasText: '4 dead letters ignored' }).waitFor();
  await shot('bulk-ignore-done');
  for (const id of ids) assert.deepEqual((await deadLetters.reviews(id)).map((r) => [r.action, r.by, r.note]), [['ignored', 'alice', 'partner noise, INC-150']]);
});
