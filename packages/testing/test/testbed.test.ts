import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestbed, type Testbed } from '@nightshift/testing';
import { add, flaky, refuse } from './fixtures/app.ts';

let bed: Testbed;
before(async () => {
  bed = await createTestbed({ app: fileURLToPath(new URL('./fixtures/app.ts', import.meta.url)) });
  await bed.startWorker({ concurrency: 2 });
});
after(async () => { await bed.close(); });

test('run sends a task and resolves with how it ended: succeeded, with its result', async () => {
  const outcome = await bed.run(add, [2, 3]);
  assert.equal(outcome.status, 'succeeded');
  assert.ok(outcome.status === 'succeeded' && outcome.result === 5 && outcome.attempts === 1);
});

test('retries are visible in the outcome', async () => {
  const outcome = await bed.run(flaky, []);
  assert.equal(outcome.status, 'succeeded');
  assert.equal(outcome.attempts, 3);
  assert.equal(outcome.events.filter((e) => e.type === 'task.retried').length, 2);
});

test('a dead-lettered task comes back with its reason and error', async () => {
  const outcome = await bed.run(refuse, []);
  assert.equal(outcome.status, 'dead-lettered');
  assert.ok(outcome.status === 'dead-lettered');
  assert.equal(outcome.reason, 'failed');
  assert.equal(outcome.error?.name, 'PermanentError');
  assert.equal(outcome.error?.message, 'no such customer');
});

test('an outcome that never comes says what was seen', async () => {
  const id = await bed.send(add, [1, 1], { queue: 'nobody-listens' });
  await assert.rejects(bed.outcome(id, { timeout: '300ms' }), /did not finish within 300ms \(seen: task\.sent\); is a worker running on its queue\?/);
});

test('close deletes what the testbed declared', async () => {
  const other = await createTestbed({ app: fileURLToPath(new URL('./fixtures/app.ts', import.meta.url)) });
  await other.send(add, [1, 2]);
  const queue = other.client.broker.names.queue('default');
  const probe = bed.client.broker;
  await other.close();
  await assert.rejects(probe.withChannel((channel) => channel.checkQueue(queue)), /NOT_FOUND/);
});
