import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode } from '@nightshift/core';
import { publishDeadLetter, HEADERS } from '@nightshift/broker';
import { brokerReplayPublisher, EventPublisher } from '@nightshift/broker';
import { alerterHarness, deadLetterTask, eventually, rowCount, taskMessage } from './support.ts';
import { slackWebhook } from '@nightshift/test-helpers';

test('a dead letter delivered twice is one row and one page; a restarted alerter sends nothing again', async () => {
  const slack = await slackWebhook();
  const harness = await alerterHarness({ NIGHTSHIFT_SLACK_WEBHOOK_URL: slack.url, NIGHTSHIFT_ALERT_WINDOW: '1s' });
  try {
    const first = await harness.start();
    const envelope = await deadLetterTask(harness.producer, 'billing.charge', ['acct-1'], new Error('card declined'));
    await eventually('the page', () => slack.messages.length === 1);
    // The same dead letter again, as a republished copy or a redelivery would bring it.
    const copy = await harness.raw.get(harness.producer.names.deadLetters);
    assert.equal(copy, false, 'the first copy was acknowledged');
    const { rows } = await harness.store.query<{ headers: Record<string, unknown> }>(`SELECT headers FROM ${harness.store.table('dead_letters')}`);
    const message = taskMessage(envelope);
    await harness.producer.publisher.publish(harness.producer.names.dlx, 'reports', message.content, { messageId: envelope.id, headers: rows[0]?.headers ?? {} });
    await eventually('the copy to be taken in', () => harness.logs.lines.some((line) => line.includes('dead letter delivered again; already stored')));
    assert.equal(await rowCount(harness.store), 1);
    await first.stop();

    await harness.start();
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    assert.equal(slack.messages.length, 1, 'no page sent twice across the restart');
    assert.equal(await rowCount(harness.store), 1);
  } finally {
    await harness.cleanup();
    await slack.close();
  }
});

test('a message the broker dead-lettered (rejected) is stored with the broker\'s reason', async () => {
  const harness = await alerterHarness();
  try {
    await harness.start();
    const subscription = await harness.producer.consume('rejects', (delivery) => delivery.nack(false));
    harness.raw.publish(harness.producer.names.tasks, 'rejects', Buffer.from('{"not":"an envelope"}'), { messageId: 'raw-1' });
    await eventually('the row', async () => (await rowCount(harness.store)) === 1);
    await subscription.cancel();
    const [item] = (await harness.deadLetters.list()).items;
    assert.equal(item?.reason, 'rejected');
    assert.equal(item?.messageId, 'raw-1');
    const stored = await harness.deadLetters.get(item?.id ?? '0');
    assert.equal(stored.body.toString(), '{"not":"an envelope"}');
    assert.match(stored.detail ?? '', /field "v" must be 1/);
  } finally {
    await harness.cleanup();
  }
});

test('requeue puts the task back in its queue with a fresh attempt count, the replay origin and the original trace; the row shows requeued', async () => {
  const harness = await alerterHarness();
  try {
    await harness.start();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const envelope = await deadLetterTask(harness.producer, 'reports.generate', ['usage'], new Error('flaky'), { queue: 'replays', traceId });
    await eventually('the row', async () => (await rowCount(harness.store)) === 1);
    const [item] = (await harness.deadLetters.list()).items;
    const [outcome] = await harness.deadLetters.requeue({ ids: [item?.id ?? ''] }, { publish: brokerReplayPublisher(harness.producer, new EventPublisher(harness.producer)), by: 'test' });
    const message = await eventually('the task back in its queue', () => harness.raw.get(harness.producer.names.queue('replays'), { noAck: true }), 2_000, 20);
    const decoded = decode(message.content);
    assert.ok(decoded.ok);
    assert.equal(decoded.envelope.attempt, 1);
    assert.equal(decoded.envelope.id, outcome?.replayId);
    assert.deepEqual(decoded.envelope.args, ['usage']);
    assert.deepEqual(decoded.envelope.origin, { type: 'replay', deadLetterId: item?.id, originalId: envelope.id });
    assert.equal(message.properties.messageId, decoded.envelope.id);
    assert.match(String(message.properties.headers?.traceparent), new RegExp(`^00-${traceId}-`), 'linked to the original trace');
    assert.equal(message.properties.headers?.[HEADERS.reason], undefined, 'a clean task message, not a dead letter');
    assert.equal((await harness.deadLetters.get(item?.id ?? '')).status, 'requeued');
    void publishDeadLetter;
  } finally {
    await harness.cleanup();
  }
});
