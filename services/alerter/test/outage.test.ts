import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadAlerterConfig } from '@nightshift/alerter';
import { alerterHarness, deadLetterTask, eventually, rowCount, tcpProxy } from './support.ts';
import { slackWebhook } from '@nightshift/test-helpers';

test('PostgreSQL unreachable for 20 s while 100 dead letters arrive: they wait in the queue, then exactly 100 rows', async () => {
  const harness = await alerterHarness();
  const proxy = await tcpProxy(harness.env.NIGHTSHIFT_DATABASE_URL as string);
  try {
    const config = loadAlerterConfig({ ...harness.env, NIGHTSHIFT_DATABASE_URL: proxy.url });
    await harness.start({ config });
    proxy.down();
    const downAt = Date.now();
    for (let i = 0; i < 100; i++) await deadLetterTask(harness.producer, 'users.sync', [String(i)], new Error('sync failed'));
    await new Promise((resolve) => setTimeout(resolve, 20_000 - (Date.now() - downAt)));
    const queue = await harness.raw.checkQueue(harness.producer.names.deadLetters);
    const attempts = proxy.refused();
    assert.equal(await rowCount(harness.store), 0, 'nothing could be stored');
    assert.ok(queue.messageCount >= 100 - 20, `the dead letters wait in the queue (${queue.messageCount} ready, the rest held unacknowledged)`);
    assert.ok(attempts < 60, `backs off: ${attempts} connection attempts in 20 s from intake, outbox and timers`);
    proxy.up();
    const upAt = Date.now();
    await eventually('100 rows', async () => (await rowCount(harness.store)) >= 100, 30_000);
    const drainMs = Date.now() - upAt;
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(await rowCount(harness.store), 100);
    assert.equal((await harness.raw.checkQueue(harness.producer.names.deadLetters)).messageCount, 0);
    assert.ok(harness.logs.lines.some((line) => line.includes('PostgreSQL is unreachable; they stay in the queue')));
    process.stdout.write(`# outage: ${attempts} connection attempts in 20 s; all 100 stored ${drainMs}ms after PostgreSQL returned\n`);
  } finally {
    await harness.cleanup();
    await proxy.close();
  }
});

test('the Slack endpoint answering 500 for a while: the alert arrives once after it recovers', async () => {
  const slack = await slackWebhook();
  const harness = await alerterHarness({ NIGHTSHIFT_SLACK_WEBHOOK_URL: slack.url });
  try {
    slack.status.code = 500;
    await harness.start();
    await deadLetterTask(harness.producer, 'reports.generate', ['usage'], new Error('boom'));
    await eventually('three failed posts', () => slack.failures() >= 3);
    assert.equal(slack.messages.length, 0);
    const { rows } = await harness.store.query<{ attempts: number; last_error: string }>(`SELECT attempts, last_error FROM ${harness.store.table('alert_outbox')} WHERE channel = 'slack'`);
    assert.match(rows[0]?.last_error ?? '', /Slack answered HTTP 500/);
    slack.status.code = 200;
    await eventually('the page', () => slack.messages.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    assert.equal(slack.messages.length, 1, 'sent once');
    assert.equal(slack.messages[0]?.text, 'reports.generate failed for good: Error');
  } finally {
    await harness.cleanup();
    await slack.close();
  }
});
