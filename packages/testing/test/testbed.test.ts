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

test('retried resolves at the first retry, with the failed attempt, its error and the wait', async () => {
  const id = await bed.send(flaky, []);
  const retried = await bed.retried(id);
  assert.equal(retried.status, 'retried');
  assert.deepEqual([retried.attempt, retried.nextAttempt], [1, 2]);
  assert.equal(retried.error?.message, 'not yet');
  assert.ok(retried.delayMs >= 100, `waits ${retried.delayMs}ms`);
  assert.equal((await bed.outcome(id)).status, 'succeeded');
});

test('retried rejects at once, saying why, when the task ends without a retry', async () => {
  const id = await bed.send(refuse, []);
  await assert.rejects(bed.retried(id, { timeout: '20s' }), /was not retried: it ended dead-lettered \(failed: PermanentError: no such customer\) after 1 attempt/);
});

test('an app given as a URL is found next to the test; a missing relative path says where it looked', async () => {
  const other = await createTestbed({ app: new URL('./fixtures/app.ts', import.meta.url) });
  await other.close();
  await assert.rejects(createTestbed({ app: './app.ts' }), /app .*app\.ts does not exist \(a relative path is resolved against the working directory/);
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
