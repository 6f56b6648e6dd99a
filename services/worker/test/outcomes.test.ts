import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readDeadLetter } from '@nightshift/broker';
import { decode } from '@nightshift/core';
import { eventually } from '@nightshift/test-helpers';
import { doomed, echo, flaky, hookCalls, permanent, picky, polite, spin, grumpyHooks } from './fixtures/app.ts';
import { harness, type Harness } from './support.ts';

let h: Harness;
before(async () => {
  h = await harness();
  await h.worker({ concurrency: 2 });
});
after(async () => { await h.close(); });

test('a task runs and succeeds, with received, started and succeeded events', async () => {
  const id = await h.client.send(echo, [{ hello: 'world' }]);
  const done = await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
  assert.deepEqual(done.result, { hello: 'world' });
  assert.equal(done.task, 'echo');
  assert.equal(typeof done.runtimeMs, 'number');
  const types = h.events.filter((e) => e.id === id && e.type !== 'task.sent').map((e) => e.type);
  assert.deepEqual(types, ['task.received', 'task.started', 'task.succeeded']);
  const sent = await h.waitForEvent((e) => e.type === 'task.sent' && e.id === id);
  assert.deepEqual(sent.args, [{ hello: 'world' }], 'the producer announces what it sent');
});

test('while (true) {} with a 1 s hard limit is dead-lettered as TimeLimitExceeded after its retries, while another task completes', async () => {
  const spinId = await h.client.send(spin, []);
  const started = Date.now();
  const echoId = await h.client.send(echo, ['meanwhile']);
  const echoed = await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === echoId);
  assert.ok(Date.parse(echoed.at) - started < 1_000, 'the other task did not wait for the spinning one');
  const [dead] = await h.deadLetters(1);
  assert.ok(dead);
  const info = readDeadLetter(dead);
  assert.equal(info.reason, 'failed');
  assert.equal(info.error?.name, 'TimeLimitExceeded');
  assert.equal(info.error?.code, 'E_TIME_LIMIT');
  assert.equal(info.attempts, 2, 'one retry, then dead');
  const body = decode(dead.content);
  assert.ok(body.ok && body.envelope.id === spinId);
  assert.ok(h.events.some((e) => e.type === 'task.retried' && e.id === spinId));
  const attempts = h.events.filter((e) => e.id === spinId && e.type === 'task.started').map((e) => e.attempt);
  assert.deepEqual(attempts, [1, 2], 'each attempt ran once');
  // What the on-call reads in the worker's log: the kill, the retry, the dead letter.
  const mine = h.logs.filter((l) => l.fields.task_id === spinId);
  assert.equal(mine.filter((l) => l.level === 'error' && /hard time limit reached: killing the sandbox/.test(l.msg)).length, 2);
  assert.ok(mine.some((l) => l.level === 'warn' && /^attempt 1 of spin failed \(TimeLimitExceeded\); retrying in /.test(l.msg)), JSON.stringify(mine.map((l) => l.msg)));
  // The dead letter can reach its queue a moment before the worker writes its line: wait for the line.
  const failedForGood = (l: { level: string; msg: string }) => l.level === 'error' && /^spin failed for good \(retries exhausted after 2 attempts\): dead-lettered$/.test(l.msg);
  await eventually('the failed-for-good line', () => (h.logs.some((l) => l.fields.task_id === spinId && failedForGood(l)) ? true : undefined), 5_000, 20)
    .catch(() => assert.fail(JSON.stringify(h.logs.filter((l) => l.fields.task_id === spinId).map((l) => l.msg))));
});

test('a task that fails twice then succeeds: no dead letter, one onSuccess, two onRetry', async () => {
  const id = await h.client.send(flaky, []);
  const done = await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
  assert.equal(done.result, 'succeeded on attempt 3');
  assert.equal(done.attempt, 3);
  assert.deepEqual(hookCalls.success.filter((x) => x === id), [id]);
  assert.equal(hookCalls.retry.filter((x) => x === id).length, 2);
  assert.equal(hookCalls.failure.filter((x) => x === id).length, 0);
  const dead = await h.raw.checkQueue(h.client.broker.names.deadLetters);
  assert.equal(dead.messageCount, 0);
});

test('retries exhausted: dead-lettered with class, code, message, stack, attempts, worker and times; onFailure once', async () => {
  const id = await h.client.send(doomed, []);
  const [dead] = await h.deadLetters(1);
  assert.ok(dead);
  const info = readDeadLetter(dead);
  assert.equal(info.error?.name, 'TypeError');
  assert.equal(info.error?.message, 'always wrong');
  assert.match(info.error?.stack ?? '', /fixtures\/app\.ts/);
  assert.equal(info.attempts, 3);
  assert.match(info.worker ?? '', /^worker@/);
  assert.ok(info.firstFailedAt && info.deadAt && Date.parse(info.firstFailedAt) <= Date.parse(info.deadAt));
  assert.match(info.detail ?? '', /retries exhausted after 3 attempts/);
  await h.waitForEvent((e) => e.type === 'task.dead-lettered' && e.id === id);
  assert.equal(hookCalls.failure.filter((x) => x === id).length, 1);
});

test('PermanentError skips retries', async () => {
  const id = await h.client.send(permanent, []);
  const [dead] = await h.deadLetters(1);
  assert.ok(dead);
  const info = readDeadLetter(dead);
  assert.equal(info.error?.name, 'PermanentError');
  assert.equal(info.attempts, 1);
  assert.match(info.detail ?? '', /permanent error/);
  assert.ok(!h.events.some((e) => e.type === 'task.retried' && e.id === id));
});

test('an error retryOn does not match skips retries', async () => {
  const id = await h.client.send(picky, []);
  const [dead] = await h.deadLetters(1);
  assert.ok(dead);
  const info = readDeadLetter(dead);
  assert.equal(dead.properties.messageId, id);
  assert.equal(info.error?.name, 'TypeError');
  assert.equal(info.attempts, 1);
  assert.match(info.detail ?? '', /retryOn does not match/);
});

test('heartbeats arrive every NIGHTSHIFT_HEARTBEAT with what a dashboard needs', async () => {
  const since = Date.now();
  await h.waitForEvent((e) => e.type === 'worker.heartbeat' && Date.parse(e.at) > since);
  const beat = h.events.filter((e) => e.type === 'worker.heartbeat').at(-1);
  assert.ok(beat);
  for (const field of ['worker', 'host', 'pid', 'queues', 'concurrency', 'active', 'processed', 'uptimeMs']) assert.ok(field in beat, field);
  assert.ok(h.events.some((e) => e.type === 'worker.online' && e.worker === beat.worker));
});

test('the soft time limit aborts ctx.signal; a task that cleans up returns normally', async () => {
  const id = await h.client.send(polite, []);
  const done = await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
  assert.deepEqual(done.result, { status: 'timeout' });
});

test('a throwing hook is logged and does not change the outcome', async () => {
  const id = await h.client.send(grumpyHooks, []);
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.ok(!h.events.some((e) => e.id === id && (e.type === 'task.failed' || e.type === 'task.retried')));
});
