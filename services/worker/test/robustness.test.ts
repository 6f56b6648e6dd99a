import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { broadcastControl, buildEnvelope, readDeadLetter } from '@nightshift/broker';
import { encode } from '@nightshift/core';
import { echo, hog, slow } from './fixtures/app.ts';
import { harness, type Harness } from './support.ts';

let h: Harness;
let workerName = '';
before(async () => {
  h = await harness();
  const started = await h.worker({ concurrency: 2, maxOldGenerationSizeMb: 48 });
  workerName = started.worker.options.name;
});
after(async () => { await h.close(); });

test('a malformed message and an unknown task are dead-lettered at once with their reasons; the worker carries on', async () => {
  const { broker } = h.client;
  await broker.publisher.publish(broker.names.tasks, 'default', Buffer.from('{"task":"echo"'), { messageId: 'garbled', mandatory: true });
  const unknown = buildEnvelope(undefined, { kind: 'nightshift.task', name: 'no.such.task' } as never, [], { id: 'ghost' }, 'test');
  await broker.publisher.publish(broker.names.tasks, 'default', encode(unknown), { messageId: 'ghost', mandatory: true });
  const dead = await h.deadLetters(2);
  const reasons = Object.fromEntries(dead.map((m) => [m.properties.messageId, readDeadLetter(m)]));
  assert.equal(reasons.garbled?.reason, 'malformed');
  assert.match(reasons.garbled?.detail ?? '', /not valid JSON/);
  assert.equal(reasons.ghost?.reason, 'unknown_task');
  assert.match(reasons.ghost?.detail ?? '', /no task named "no.such.task"/);
  const id = await h.client.send(echo, ['still here']);
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
});

test('a message received after it expired is not run; it is dead-lettered as expired', async () => {
  const id = await h.client.send(echo, ['too late'], { expires: new Date(Date.now() - 1) });
  const [dead] = await h.deadLetters(1);
  assert.ok(dead);
  assert.equal(dead.properties.messageId, id);
  assert.equal(readDeadLetter(dead).reason, 'expired');
  const event = await h.waitForEvent((e) => e.type === 'task.dead-lettered' && e.id === id);
  assert.equal(event.reason, 'expired');
  assert.ok(!h.events.some((e) => e.id === id && e.type === 'task.started'));
});

test('a task that kills its sandbox every time (out of memory) is dead-lettered by the delivery limit, not retried forever', async () => {
  const id = await h.client.send(hog, []);
  const [dead] = await h.deadLetters(1, 60_000);
  assert.ok(dead);
  assert.equal(dead.properties.messageId, id);
  assert.equal(readDeadLetter(dead).reason, 'delivery_limit');
  const crashes = h.events.filter((e) => e.id === id && e.type === 'task.failed' && e.crashed === true).length;
  assert.ok(crashes >= 3 && crashes <= 4, `the sandbox died ${crashes} times for a delivery limit of 3`);
  const after = await h.client.send(echo, ['the pool recovered']);
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === after);
});

test('remote control: ping, stats, registered and active answer within the timeout', async () => {
  const { broker } = h.client;
  const marker = h.marker('active');
  const id = await h.client.send(slow, [3_000, marker]);
  await h.waitForEvent((e) => e.type === 'task.started' && e.id === id);
  const one = { timeoutMs: 1_000, limit: 1 };
  const [active] = await broadcastControl(broker, 'active', {}, one);
  const [pong] = await broadcastControl(broker, 'ping', {}, one);
  assert.deepEqual(pong, { worker: workerName, command: 'ping', reply: { ok: 'pong' } });
  const [stats] = await broadcastControl(broker, 'stats', {}, one);
  assert.equal((stats?.reply as { concurrency: number }).concurrency, 2);
  const [registered] = await broadcastControl(broker, 'registered', {}, one);
  assert.ok((registered?.reply as string[]).includes('slow'));
  const running = active?.reply as Array<{ id: string; args: unknown[] }>;
  assert.deepEqual(running.map((r) => r.id), [id]);
  assert.deepEqual(running[0]?.args, [3_000, marker]);
  await h.waitForEvent((e) => e.type === 'task.succeeded' && e.id === id);
  assert.deepEqual(await broadcastControl(h.client.broker, 'ping', {}, { destination: ['someone-else'], timeoutMs: 300 }), []);
});

test('revoke: an id revoked before it runs is skipped; a running task revoked with terminate is stopped, not retried', async () => {
  const { broker } = h.client;
  await broadcastControl(broker, 'revoke', { id: 'revoked-early' });
  await h.client.send(echo, ['never'], { id: 'revoked-early' });
  await h.waitForEvent((e) => e.type === 'task.revoked' && e.id === 'revoked-early');
  assert.ok(!h.events.some((e) => e.id === 'revoked-early' && e.type === 'task.started'));

  const marker = h.marker('revoke');
  const id = await h.client.send(slow, [10_000, marker]);
  await h.waitForEvent((e) => e.type === 'task.started' && e.id === id);
  const [reply] = await broadcastControl(broker, 'revoke', { id, terminate: true });
  assert.equal((reply?.reply as { state: string }).state, 'terminated');
  const revoked = await h.waitForEvent((e) => e.type === 'task.revoked' && e.id === id);
  assert.equal(revoked.terminated, true);
  assert.ok(!h.events.some((e) => e.id === id && (e.type === 'task.retried' || e.type === 'task.succeeded')));
});
