// The in-flight claim: an attempt running on one worker is claimed in Redis (`<prefix>:running:<id>:<attempt>`,
// a lease renewed while it runs), so a copy RabbitMQ delivers to another worker meanwhile (the first one's
// connection died) is held, neither run nor lost, and acked once the original's outcome is recorded. A holder that
// stops renewing (it died) lets the copy run once the lease runs out: at-least-once.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { buildEnvelope, EventPublisher, sendEnvelope, type LifecycleEvent } from '@nightshift/broker';
import { metrics, startTelemetry, type Telemetry } from '@nightshift/telemetry';
import { eventually, TcpProxy } from '@nightshift/test-helpers';
import { completionKeys, startWorker, type StartedWorker } from '@nightshift/worker';
import { ledger } from './fixtures/app.ts';
import { appPath, harness, type Harness, type LoggedLine } from './support.ts';

let telemetry: Telemetry;
let redis: Redis;
const open: Array<{ close(): Promise<void> }> = [];

before(async () => {
  telemetry = await startTelemetry({ service: 'worker-test', metricsPort: 0, logLevel: 'silent' });
});
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});
after(async () => {
  redis?.disconnect();
  await telemetry?.shutdown();
});

async function suppressed(task: string, reason: 'completed' | 'in_flight'): Promise<number> {
  const text = await (await fetch(telemetry.metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(`nightshift_duplicates_suppressed_total{task="${task}",reason="${reason}"`));
  return Number(line?.split(' ').at(-1) ?? 0);
}

const eventOf = (type: LifecycleEvent['type'], id: string) => (e: LifecycleEvent) => e.type === type && e.id === id;
const startsOf = (marker: string, id: string) => (existsSync(marker) ? readFileSync(marker, 'utf8') : '').split('\n')
  .filter((line) => line.startsWith(`start ${id} `)).map((line) => Number(line.split(' ').at(-1)));

async function installation(env: Record<string, string> = {}) {
  const h: Harness = await harness({ NIGHTSHIFT_COMPLETION_LEASE: '1s', ...env });
  open.push(h);
  redis ??= new Redis(h.config.redisUrl);
  const publisher = new EventPublisher(h.client.broker);
  await publisher.ready();
  open.push(publisher);
  return { h, keys: completionKeys(h.config.prefix), publisher };
}

test('a copy delivered to another worker while the attempt runs there is held, not run, and acked when it finishes: in_flight, counted, on the timeline', async () => {
  const { h, keys } = await installation();
  const marker = h.marker('held');
  // Worker A reaches RabbitMQ through a proxy the test cuts mid-run (Redis directly): RabbitMQ takes the message
  // back and delivers it to worker B while A's run goes on.
  const proxy = await TcpProxy.start(h.env.NIGHTSHIFT_AMQP_URL as string);
  open.push(proxy);
  const aLogs: LoggedLine[] = [];
  const quiet = (level: LoggedLine['level']) => (fields: unknown, msg?: string) => { aLogs.push({ level, msg: msg ?? String(fields), fields: {}, at: Date.now() }); };
  const nameA = `holder-${randomUUID().slice(0, 8)}`;
  const a: StartedWorker = await startWorker({ appPath, concurrency: 1, name: nameA }, { ...h.env, NIGHTSHIFT_AMQP_URL: proxy.url(h.env.NIGHTSHIFT_AMQP_URL as string) },
    { debug: quiet('debug'), info: quiet('info'), warn: quiet('warn'), error: quiet('error') } as never, metrics.getMeter('@nightshift/worker'));
  open.push({ close: async () => { await proxy.restore(); await a.stop({ force: true }); } });
  const before = await suppressed('ledger', 'in_flight');

  // 3.5 s: longer than three leases of 1 s, so the copy is held only if A keeps renewing its claim.
  const id = await h.client.send(ledger, [3_500, marker]);
  await eventually('the task to start on A', () => startsOf(marker, id).length === 1, 20_000, 10);
  assert.equal(await redis.get(keys.running(id, 1)).then((holder) => holder?.split('#')[0]), nameA, 'A holds the attempt\'s claim');
  const b = await h.worker({ name: `copy-${randomUUID().slice(0, 8)}`, concurrency: 1 });
  const cutAt = Date.now();
  await proxy.cut();

  await h.waitForEvent((e) => e.type === 'task.received' && e.id === id && e.worker === b.worker.options.name, 20_000);
  const event = await h.waitForEvent(eventOf('task.duplicate-suppressed', id), 30_000);
  const started = startsOf(marker, id);
  console.log(`copy on B held ${String(event.heldMs)} ms for ${String(event.heldBy)}; runs ${started.length}; A's run ended ${Date.now() - cutAt} ms after the cut or earlier`);
  assert.equal(started.length, 1, 'the attempt ran once, on A');
  assert.equal(event.worker, b.worker.options.name);
  assert.equal(event.reason, 'in_flight');
  assert.equal(event.outcome, 'succeeded');
  assert.equal(event.finishedBy, nameA);
  assert.equal(String(event.heldBy).split('#')[0], nameA, 'the note names the worker that ran it');
  assert.ok(Number(event.heldMs) >= 1_000, `held past one lease (A renewed its claim): ${String(event.heldMs)} ms`);
  assert.equal(event.redelivered, true);
  assert.equal(await suppressed('ledger', 'in_flight'), before + 1);
  const held = h.logs.find((l) => l.fields.task_id === id && l.msg.startsWith('a copy of ledger attempt 1 arrived while'));
  assert.equal(held?.level, 'info', 'B says it holds the copy');
  const acked = h.logs.find((l) => l.fields.task_id === id && l.msg.startsWith('a duplicate of ledger attempt 1 was acknowledged without running: it arrived while that attempt was running on'));
  assert.equal(acked?.level, 'info', JSON.stringify(h.logs.filter((l) => l.fields.task_id === id)));

  // The record replaced the claim in the same step; the copy was acked, not held or lost.
  assert.equal(await redis.exists(keys.running(id, 1)), 0, 'the claim is gone');
  assert.match(await redis.get(keys.attempt(id, 1)) ?? '', /"outcome":"succeeded"/);
  await b.stop();
  const { messageCount } = await h.raw.checkQueue(h.client.broker.names.queue('default'));
  assert.equal(messageCount, 0, 'nothing went back to the queue');
  assert.deepEqual(h.logs.filter((l) => l.level === 'error'), []);
});

test('the worker holding a claim dies: its copy is held until the lease runs out unrenewed, then runs (at-least-once) and says why', async () => {
  const { h, keys, publisher } = await installation();
  const marker = h.marker('orphan');
  const envelope = buildEnvelope(undefined, ledger, [0, marker], {}, 'test');
  // What a worker killed mid-run leaves: its claim, renewed no more.
  const leaseMs = 1_500;
  // The worker first: a slow start must not outlast the planted lease.
  const worker = await h.worker({ concurrency: 1 });
  await redis.set(keys.running(envelope.id, 1), 'killed-worker#0000', 'PX', leaseMs);
  const plantedAt = Date.now();
  await sendEnvelope(h.client.broker, envelope, publisher);
  await h.waitForEvent(eventOf('task.succeeded', envelope.id), 20_000);
  const started = startsOf(marker, envelope.id);
  assert.equal(started.length, 1, 'it ran, once');
  assert.ok((started[0] ?? 0) - plantedAt >= leaseMs - 50, `not before the lease ran out: ${(started[0] ?? 0) - plantedAt} ms after the claim (lease ${leaseMs} ms)`);
  const warning = h.logs.find((l) => l.fields.task_id === envelope.id && l.level === 'warn');
  assert.match(warning?.msg ?? '', /killed-worker#0000, which ran it, stopped renewing its claim without an outcome .* runs again \(at-least-once\)/);
  assert.equal(h.events.filter(eventOf('task.duplicate-suppressed', envelope.id)).length, 0);
  assert.equal(await redis.exists(keys.running(envelope.id, 1)), 0, 'its own claim went with the record');
  await worker.stop();
});

test('a held copy goes back to its queue when its worker stops; once the holder records the outcome it is a duplicate', async () => {
  const { h, keys, publisher } = await installation({ NIGHTSHIFT_COMPLETION_LEASE: '30s' });
  const marker = h.marker('stop');
  const envelope = buildEnvelope(undefined, ledger, [0, marker], {}, 'test');
  await redis.set(keys.running(envelope.id, 1), 'busy-worker#0000', 'PX', 30_000);
  const first = await h.worker({ concurrency: 1 });
  await sendEnvelope(h.client.broker, envelope, publisher);
  await eventually('the copy to be held', () => h.logs.some((l) => l.fields.task_id === envelope.id && l.msg.startsWith('a copy of ledger attempt 1 arrived while busy-worker#0000 runs it')), 20_000, 20);
  const stoppedAt = Date.now();
  await first.stop();
  assert.ok(Date.now() - stoppedAt < 10_000, 'a held copy does not hold up the stop');
  assert.equal(startsOf(marker, envelope.id).length, 0);
  assert.equal((await h.raw.checkQueue(h.client.broker.names.queue('default'))).messageCount, 1, 'returned to its queue, not acked');

  // The holder finishes: the record says so, and the copy (delivered again to a new worker) is a duplicate.
  await redis.multi().set(keys.attempt(envelope.id, 1), JSON.stringify({ outcome: 'succeeded', worker: 'busy-worker', at: new Date().toISOString() }), 'PX', 60_000).del(keys.running(envelope.id, 1)).exec();
  await h.worker({ concurrency: 1 });
  const event = await h.waitForEvent(eventOf('task.duplicate-suppressed', envelope.id), 20_000);
  assert.equal(event.reason, 'completed');
  assert.equal(startsOf(marker, envelope.id).length, 0, 'never ran here');
  assert.deepEqual(await redis.keys(`${h.config.prefix}:running:*`), [], 'no claim left behind');
});
