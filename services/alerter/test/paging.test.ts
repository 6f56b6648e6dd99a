import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { deadLetterTask, eventually, pagedHarness, rowCount, type AlerterHarness, type PagedHarness } from './support.ts';

class ReportTimeout extends Error {
  override name = 'ReportTimeout';
}

let paged: PagedHarness;
let slack: PagedHarness['slack'];
let smtp: PagedHarness['smtp'];
let harness: AlerterHarness;

before(async () => {
  paged = await pagedHarness({ NIGHTSHIFT_DASHBOARD_URL: 'http://dashboard.test', NIGHTSHIFT_TRACE_URL: 'http://traces.test/trace/' });
  ({ slack, smtp, harness } = paged);
});
after(() => paged.close());

test('50 dead letters of one task and error within the window: 2 Slack messages, 2 emails, 50 rows; no secret anywhere', async () => {
  await harness.start();
  const started = Date.now();
  for (let i = 0; i < 50; i++) {
    await deadLetterTask(harness.producer, 'reports.generate', ['usage', { password: 'hunter2', day: i }], new ReportTimeout('the report service did not answer'));
  }
  await eventually('50 rows', async () => (await rowCount(harness.store)) === 50);
  await eventually('the first page', () => slack.messages.length >= 1 && smtp.mails.length >= 1);
  const firstPageMs = Date.now() - started;
  await eventually('the summary', () => slack.messages.length >= 2 && smtp.mails.length >= 2, 10_000);
  // One more window: the group stayed quiet and ends without another message.
  await new Promise((resolve) => setTimeout(resolve, 3_500));
  assert.equal(await rowCount(harness.store), 50);
  assert.deepEqual(slack.messages.map((m) => m.text), [
    'reports.generate failed for good: ReportTimeout',
    '…and 49 more: reports.generate failed with ReportTimeout',
  ]);
  assert.equal(smtp.mails.length, 2);
  assert.match(smtp.mails[0]?.raw ?? '', /^Subject: \[nightshift\] reports\.generate failed for good: ReportTimeout/m);
  assert.match(smtp.mails[1]?.raw ?? '', /and 49 more/);
  assert.match(slack.messages[0]?.raw ?? '', /http:\/\/dashboard\.test\/dead-letters\/\d+/);
  assert.match(slack.messages[0]?.raw ?? '', /http:\/\/traces\.test\/trace\/[0-9a-f]{32}/);
  assert.match(slack.messages[0]?.raw ?? '', /\\"password\\":\\"\*\*\*\\"/, 'the args are shown, redacted');

  const everything = [...slack.messages.map((m) => m.raw), ...smtp.mails.map((m) => m.raw), ...harness.logs.lines].join('\n');
  assert.doesNotMatch(everything, /hunter2/, 'the password reaches no Slack message, email or log line');
  assert.doesNotMatch(everything, /XXXXSECRETXXXX/, 'nor does the webhook URL');
  const rows = await harness.deadLetters.list({ limit: 1 });
  const stored = await harness.deadLetters.get(rows.items[0]?.id ?? '0');
  assert.deepEqual((stored.args?.[1] as { password: string }).password, 'hunter2', 'the row keeps the real args, for replay');
  assert.equal(stored.reason, 'failed');
  assert.equal(stored.attempts, 3);
  assert.equal(stored.worker, 'worker@test');
  assert.match(stored.traceId ?? '', /^[0-9a-f]{32}$/);
  process.stdout.write(`# first page after ${firstPageMs}ms\n`);
});
