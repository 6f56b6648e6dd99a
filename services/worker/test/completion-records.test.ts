// Effectively once for finished work: a duplicate delivery of an attempt that finished is acked without running,
// wherever it arrives, because the attempt's completion record (Redis, the shared server) says it finished.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import type { TaskEnvelope } from '@nightshift/core';
import { buildEnvelope, EventPublisher, sendEnvelope, type LifecycleEvent } from '@nightshift/broker';
import { metrics, startTelemetry, type Telemetry } from '@nightshift/telemetry';
import { closeConnections, connectionsNamed, eventually } from '@nightshift/test-helpers';
import { completionKeys } from '@nightshift/worker';
import { CompletionRecords } from '../src/completion-records.ts';
import { flaky, ledger } from './fixtures/app.ts';
import { harness, type Harness } from './support.ts';

let telemetry: Telemetry;
let h: Harness;
let redis: Redis;
let publisher: EventPublisher;

before(async () => {
  // The workers' instruments come from the global meter: started before them, this serves their /metrics.
  telemetry = await startTelemetry({ service: 'worker-test', metricsPort: 0, logLevel: 'silent' });
  h = await harness();
  redis = new Redis(h.config.redisUrl);
  publisher = new EventPublisher(h.client.broker);
  await publisher.ready();
});
after(async () => {
  await publisher?.close();
  await h?.close();
  redis?.disconnect();
  await telemetry?.shutdown();
});

/** Publishes `envelope` as a producer does: a second call publishes the same message (same id, same attempt) again. */
const publish = (envelope: TaskEnvelope) => sendEnvelope(h.client.broker, envelope, publisher);

/** The `ledger` task's starts: one line per run, `start <id> <redelivered> <deliveryCount> <ms>`. */
const startsOf = (marker: string, id: string) => (existsSync(marker) ? readFileSync(marker, 'utf8') : '').split('\n').filter((line) => line.startsWith(`start ${id} `)).length;

async function suppressed(task: string, reason: 'completed' | 'in_flight' = 'completed'): Promise<number> {
  const text = await (await fetch(telemetry.metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`nightshift_duplicates_suppressed_total{task="${task}",reason="${reason}"`));
  return Number(line?.split(' ').at(-1) ?? 0);
}

const eventOf = (type: LifecycleEvent['type'], id: string, attempt?: number) => (e: LifecycleEvent) => e.type === type && e.id === id && (attempt === undefined || e.attempt === attempt);

test('a copy of a finished attempt, delivered to another worker, is acked without running: counted, announced and logged', async () => {
  const marker = h.marker('copy');
  const envelope = buildEnvelope(undefined, ledger, [0, marker], {}, 'test');
  const first = await h.worker({ name: `first-${randomUUID().slice(0, 8)}` });
  await publish(envelope);
  await h.waitForEvent(eventOf('task.succeeded', envelope.id));
  await first.stop();
  const before = await suppressed('ledger');

  // A worker that never saw it: only the record in Redis can tell it the attempt finished.
  const second = await h.worker({ name: `second-${randomUUID().slice(0, 8)}` });
  await publish(envelope);
  const event = await h.waitForEvent(eventOf('task.duplicate-suppressed', envelope.id));
  assert.equal(startsOf(marker, envelope.id), 1, 'the task ran once');
  assert.equal(event.reason, 'completed');
  assert.equal(event.outcome, 'succeeded');
  assert.equal(event.finishedBy, first.worker.options.name);
  assert.equal(event.worker, second.worker.options.name);
  assert.equal(event.attempt, 1);
  assert.equal(await suppressed('ledger'), before + 1);
  const line = h.logs.find((l) => l.fields.task_id === envelope.id && l.msg.startsWith('a duplicate of ledger attempt 1 was acknowledged without running'));
  assert.equal(line?.level, 'info', JSON.stringify(line));
  assert.equal(h.events.filter(eventOf('task.started', envelope.id)).length, 1);

  // Acked, not held: stopped, the worker returns whatever it did not settle to the queue, and nothing is there.
  await second.stop();
  const { messageCount } = await h.raw.checkQueue(h.client.broker.names.queue('default'));
  assert.equal(messageCount, 0);
});

test('copies of one attempt queued together: the first runs, every other copy is acked without running', async () => {
  // A producer's republish puts a copy right behind the first: both arrive in one batch, checked as they arrive,
  // before either ran. Those checks are not the last word: each copy is checked again against what finished here.
  const marker = h.marker('batch');
  const envelope = buildEnvelope(undefined, ledger, [0, marker], {}, 'test');
  for (let copy = 0; copy < 6; copy++) await publish(envelope);
  // A copy that arrives while the one before it is under way here waits for it (in_flight); one that arrives
  // after it finished finds its record at once (completed). Either way it is acked without running.
  const both = async () => (await suppressed('ledger', 'in_flight')) + (await suppressed('ledger', 'completed'));
  const before = await both();
  const worker = await h.worker({ concurrency: 1 });
  await eventually('five copies suppressed', async () => ((await both()) === before + 5 ? true : undefined), 20_000, 50);
  assert.equal(startsOf(marker, envelope.id), 1, 'the task ran once');
  await worker.stop();
  const { messageCount } = await h.raw.checkQueue(h.client.broker.names.queue('default'));
  assert.equal(messageCount, 0);
});

test('the record is per attempt: a failing attempt\'s retry runs; a copy of the failed attempt does not run again', async () => {
  const worker = await h.worker();
  const envelope = buildEnvelope(undefined, flaky, [], {}, 'test');
  await publish(envelope);
  await h.waitForEvent(eventOf('task.succeeded', envelope.id, 3));
  // Events of different types travel in different messages: wait for the last start, then count them all.
  await h.waitForEvent(eventOf('task.started', envelope.id, 3));
  const started = h.events.filter(eventOf('task.started', envelope.id)).map((e) => e.attempt);
  assert.deepEqual(started, [1, 2, 3], 'attempts 2 and 3 ran although attempt 1 (and 2) had finished');
  assert.equal(h.events.filter(eventOf('task.duplicate-suppressed', envelope.id)).length, 0);

  const keys = completionKeys(h.config.prefix);
  const records = await Promise.all([1, 2, 3].map((attempt) => redis.get(keys.attempt(envelope.id, attempt))));
  assert.deepEqual(records.map((r) => (JSON.parse(r ?? '{}') as { outcome?: string }).outcome), ['retried', 'retried', 'succeeded']);
  const ttl = await redis.pttl(keys.attempt(envelope.id, 1));
  assert.ok(ttl > 23 * 3_600_000 && ttl <= 24 * 3_600_000, `kept about a day (NIGHTSHIFT_COMPLETION_TTL), pttl ${ttl}`);

  // The first attempt's message once more, as the retry ladder's dead-lettering can send it twice.
  await publish(envelope);
  const event = await h.waitForEvent(eventOf('task.duplicate-suppressed', envelope.id, 1));
  assert.equal(event.outcome, 'retried');
  assert.deepEqual(h.events.filter(eventOf('task.started', envelope.id)).map((e) => e.attempt), [1, 2, 3], 'nothing ran again');
  await worker.stop();
});

test('a lost connection: the running attempt finishes here, and its copy that RabbitMQ delivers again is acked without running', async () => {
  const name = `lost-${randomUUID().slice(0, 8)}`;
  const marker = h.marker('lost');
  await h.worker({ name, concurrency: 1 });
  // The copy arrives while the original runs: held until it finishes, it is an in-flight duplicate.
  const before = await suppressed('ledger', 'in_flight');
  // Listed late by the management API: found before the task is sent, so the close comes mid-run.
  const connections = await connectionsNamed(`nightshift ${name}`);
  const id = await h.client.send(ledger, [1_500, marker]);
  await eventually('the task to start', () => startsOf(marker, id) === 1, 20_000, 10);
  await closeConnections(connections);

  const event = await h.waitForEvent(eventOf('task.duplicate-suppressed', id), 30_000);
  assert.equal(event.redelivered, true);
  assert.ok(Number(event.deliveryCount) >= 1, `deliveryCount ${String(event.deliveryCount)}`);
  assert.equal(event.outcome, 'succeeded');
  assert.equal(event.reason, 'in_flight');
  assert.equal(String(event.heldBy).split('#')[0], name, 'held for the run on this same worker');
  assert.equal(startsOf(marker, id), 1, 'the copy did not run after the original');
  await h.waitForEvent(eventOf('task.succeeded', id));
  assert.equal(h.events.filter(eventOf('task.succeeded', id)).length, 1);
  assert.equal(await suppressed('ledger', 'in_flight'), before + 1);
});

test('checks asked in one turn go to Redis together and each gets its own verdict; records written together each keep theirs', async () => {
  const prefix = `batch-${randomUUID().slice(0, 8)}`;
  const keys = completionKeys(prefix);
  const quiet = { debug() {}, info() {}, warn() {}, error() {} };
  const records = new CompletionRecords({
    redisUrl: h.config.redisUrl, prefix, worker: 'batch-worker', tasks: new Map(), ttlFloorMs: 60_000, shortestRetryStepMs: 1_000,
    timeoutMs: 2_000, leaseMs: 15_000, log: quiet, meter: metrics.getMeter('batch-test'),
  });
  await records.connect();
  try {
    const [finished, held, free] = [1, 2, 3].map(() => buildEnvelope(undefined, ledger, [0, 'unused'], {}, 'test'));
    if (!finished || !held || !free) throw new Error('three envelopes');
    await redis.set(keys.attempt(finished.id, 1), JSON.stringify({ outcome: 'succeeded', worker: 'elsewhere', at: new Date().toISOString() }), 'PX', 60_000);
    await redis.set(keys.running(held.id, 1), 'other-worker#1', 'PX', 60_000);
    const verdicts = await Promise.all([records.claim(finished), records.claim(held), records.claim(free)]);
    assert.deepEqual(verdicts.map((v) => v.state), ['finished', 'held', 'claimed']);
    assert.equal(verdicts[1]?.state === 'held' && verdicts[1].holder, 'other-worker#1');
    assert.equal(await redis.get(keys.running(free.id, 1)), records.holder, 'the free one is claimed for this worker');
    await Promise.all([records.record(free, 'succeeded'), records.record(held, 'retried')]);
    assert.equal((JSON.parse(await redis.get(keys.attempt(free.id, 1)) ?? '{}') as { outcome?: string }).outcome, 'succeeded');
    assert.equal((JSON.parse(await redis.get(keys.attempt(held.id, 1)) ?? '{}') as { outcome?: string }).outcome, 'retried');
    assert.equal(await redis.get(keys.running(free.id, 1)), null, 'its claim let go with the record');
    assert.equal(await redis.get(keys.running(held.id, 1)), 'other-worker#1', 'another worker\'s claim is not this worker\'s to let go');
  } finally {
    await records.close();
    const left = await redis.keys(`${prefix}:*`);
    if (left.length > 0) await redis.del(...left);
  }
});
