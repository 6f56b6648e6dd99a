import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AlertOutbox, closeAlertWindows, type AlertRouting } from '@nightshift/store';
import { deadLetterInput, testStore } from './support.ts';

let ctx: Awaited<ReturnType<typeof testStore>>;
before(async () => { ctx = await testStore(); });
after(async () => { await ctx.cleanup(); });

const routing = (windowMs: number): AlertRouting => ({
  groupKey: 'reports.generate|TimeoutError', task: 'reports.generate', errorClass: 'TimeoutError', windowMs,
  channels: ['slack', 'log'], page: (id) => ({ kind: 'page', deadLetterId: id }), message: 'timed out',
});

// A window far longer than any test's pauses on a loaded machine; its end is seeded rather than waited for.
const WINDOW_MS = 60_000;
const windowPasses = () => ctx.store.query(`UPDATE ${ctx.store.table('alert_groups')} SET window_ends_at = now() - interval '1 millisecond'`);

test('the first of a group pages on every channel, the rest are counted and summarized when the window closes', async () => {
  const outbox = new AlertOutbox(ctx.store);
  const outcomes = [];
  for (let i = 0; i < 5; i++) outcomes.push((await ctx.deadLetters.record(deadLetterInput(), routing(WINDOW_MS))).alert);
  assert.deepEqual(outcomes, ['paged', 'grouped', 'grouped', 'grouped', 'grouped']);
  const pages = await outbox.claim(10, 60_000);
  assert.deepEqual(pages.map((e) => [e.channel, e.kind]), [['slack', 'page'], ['log', 'page']]);
  assert.deepEqual(await outbox.claim(10, 60_000), [], 'claimed entries are leased');
  for (const entry of pages) await outbox.markSent(entry.id);

  const summary = (w: { count: number }) => ({ kind: 'summary', more: w.count });
  const close = () => closeAlertWindows(ctx.store, { windowMs: WINDOW_MS, channels: ['slack', 'log'], summary });
  assert.deepEqual(await close(), { summarized: 0, ended: 0 }, 'the window is still open');
  await windowPasses();
  assert.deepEqual(await close(), { summarized: 1, ended: 0 });
  const summaries = await outbox.claim(10, 60_000);
  assert.deepEqual(summaries.map((e) => [e.channel, e.alert]), [['slack', { kind: 'summary', more: 4 }], ['log', { kind: 'summary', more: 4 }]]);
  assert.deepEqual(await close(), { summarized: 0, ended: 0 }, 'the summary opened a new window');
  await windowPasses();
  assert.deepEqual(await close(), { summarized: 0, ended: 1 }, 'a quiet group ends');
  assert.equal((await ctx.deadLetters.record(deadLetterInput(), routing(WINDOW_MS))).alert, 'paged', 'the next one pages again');
});

test('a failed entry comes back after its delay; a sent one counts toward the rate limit', async () => {
  const local = await testStore();
  try {
    const outbox = new AlertOutbox(local.store);
    await local.deadLetters.record(deadLetterInput(), { ...routing(60_000), channels: ['slack'] });
    const [entry] = await outbox.claim(10, 60_000);
    assert.ok(entry);
    await outbox.markFailed(entry.id, 'HTTP 500', 60_000);
    assert.deepEqual(await outbox.claim(10, 60_000), [], 'not before its delay');
    assert.equal((await outbox.stats()).depth, 1);
    // The delay passes (seeded, not waited for: a loaded machine can take longer than a short delay between two calls).
    await local.store.query(`UPDATE ${local.store.table('alert_outbox')} SET due_at = now() - interval '1 millisecond' WHERE id = $1`, [entry.id]);
    const [again] = await outbox.claim(10, 60_000);
    assert.equal(again?.attempts, 2);
    await outbox.markSent(entry.id);
    assert.deepEqual(await outbox.stats(), { depth: 0, oldestAgeSeconds: 0 });
    assert.equal((await outbox.sentWithin('slack', 60_000)).count, 1);
  } finally {
    await local.cleanup();
  }
});
