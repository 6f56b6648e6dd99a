// `npm run screenshots`: one PNG per dashboard page under docs/screenshots/, for the README's control-room section.
// Starts a seeded stack on this machine's RabbitMQ, PostgreSQL and Redis (a fresh prefix and schema, deleted
// afterwards): the health-api with the test app, a worker, tasks sent through the API (successes, retries,
// dead letters, a backlog), an hour of history recorded as the recorder writes it. Then Chromium (playwright-core
// driving /usr/bin/chromium) opens each page and waits for its data: no `--virtual-time-budget`, which never
// ends on the dashboard's event stream.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { DeadLetters, type TaskEventInput } from '@nightshift/store';
import { eventually, installation } from '../test/support.ts';

const OUT = new URL('../../../docs/screenshots/', import.meta.url);
mkdirSync(OUT, { recursive: true });

const site = await installation({}, { listen: true });
try {
  await site.worker({ queues: ['default'], concurrency: 4 });
  const send = async (task: string, args: unknown[]) => ((await site.request('POST', '/api/tasks', { task, args })).json as { id: string }).id;
  const stateOf = async (id: string) => ((await site.request('GET', `/api/tasks/${id}`)).json as { state?: string }).state;

  // An hour of history, as the recorder writes it, so the monitor's charts have a shape.
  const now = Date.now();
  const history: TaskEventInput[] = [];
  for (let i = 0; i < 1_200; i += 1) {
    const sentMs = now - 3_500_000 + i * 2_900;
    const run = { runId: `history-${i}`, name: ['reports.generate', 'billing.charge', 'mail.send', 'images.resize'][i % 4] as string, queue: 'default', maxAttempts: 4, worker: `worker@demo-${i % 2}`, sentAt: new Date(sentMs).toISOString(), args: [i] };
    const wave = 1 + Math.sin(i / 90);
    if (i % 17 === 0) {
      const error = { name: 'TimeoutError', message: 'upstream took too long', stack: 'TimeoutError: upstream took too long\n    at fetchRates (app.ts:42:11)' };
      history.push({ ...run, state: 'failed', at: new Date(sentMs + 400).toISOString(), attempt: 1, error }, { ...run, state: 'retried', at: new Date(sentMs + 400).toISOString(), attempt: 1 });
      history.push({ ...run, state: i % 51 === 0 ? 'dead-lettered' : 'succeeded', at: new Date(sentMs + 1_500).toISOString(), attempt: 2, runtimeMs: 800, ...(i % 51 === 0 ? { error } : {}) });
    } else {
      history.push({ ...run, state: 'succeeded', at: new Date(sentMs + 300).toISOString(), attempt: 1, runtimeMs: Math.round(120 + 900 * wave * ((i % 7) / 7)) });
    }
  }
  await site.api.room.taskRuns.record(history);

  // Live work: successes, a task that succeeds on its third attempt, dead letters, and a backlog in "reports".
  const flaky = await send('flaky', [2]);
  for (let i = 0; i < 12; i += 1) await send('echo', [`order ${1000 + i}`]);
  for (let i = 0; i < 3; i += 1) await send('nap', [300 + i * 100]);
  const broken = [await send('broken', [{ order: 7 }]), await send('broken', [{ order: 8 }])];
  for (let i = 0; i < 6; i += 1) await send('report', [`2030-0${i + 1}`]);
  await eventually('the flaky task to succeed and the broken ones to be dead-lettered', async () => (
    (await stateOf(flaky)) === 'succeeded' && (await Promise.all(broken.map(stateOf))).every((s) => s === 'dead-lettered') ? true : undefined), 60_000);
  // The dead letters as the alerter records them (no alerter runs here).
  const deadLetters = new DeadLetters(site.api.room.store);
  for (const [i, id] of broken.entries()) {
    const envelope = { v: 1, id, task: 'broken', args: [{ order: 7 + i }], kwargs: {}, attempt: 1, maxAttempts: 4, queue: 'default', sentAt: new Date().toISOString(), origin: { type: 'producer', producer: 'screenshots' } };
    await deadLetters.record({ messageId: id, deathMark: `screenshots-${i}`, task: 'broken', queue: 'default', reason: 'failed', lastFailedAt: new Date().toISOString(),
      error: { name: 'PermanentError', message: 'card declined' }, headers: {}, properties: {}, body: Buffer.from(JSON.stringify(envelope)) });
  }
  await eventually('the overview to count them', async () => (((await site.request('GET', '/api/overview')).json as { deadLettersPending: number }).deadLettersPending >= 2 ? true : undefined));

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ httpCredentials: { username: 'alice', password: 'correct-horse' }, viewport: { width: 1440, height: 900 }, timezoneId: 'UTC', colorScheme: 'light' });
    const page = await context.newPage();
    const pages: [string, string, string][] = [
      ['overview', '/', '.cards .card'],
      ['workers', '/workers', 'main table tbody tr'],
      ['tasks', '/tasks', 'tr[data-run]'],
      ['task', `/tasks/${flaky}`, 'table.attempts tbody tr'],
      ['queues', '/queues', 'main table tbody tr'],
      ['schedules', '/schedules', 'tr[data-entry]'],
      ['dead-letters', '/dead-letters', 'tr[data-dead-letter]'],
      ['monitor', '/monitor', '.charts .uplot'],
    ];
    for (const [name, path, ready] of pages) {
      await page.goto(`${site.api.url}${path}`);
      await page.locator(ready).first().waitFor({ timeout: 15_000 });
      await page.waitForTimeout(1_200); // a live refresh, and the charts drawn
      const file = new URL(`${name}.png`, OUT);
      await page.screenshot({ path: file.pathname });
      process.stdout.write(`${file.pathname}\n`);
    }
  } finally {
    await browser.close();
  }
} finally {
  await site.close();
}
