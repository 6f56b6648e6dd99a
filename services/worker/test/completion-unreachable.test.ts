// Without Redis the completion records cannot be checked: tasks run all the same (at-least-once), never waiting on
// Redis for longer than NIGHTSHIFT_COMPLETION_TIMEOUT, and the worker says so once and counts what it skipped.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, test } from 'node:test';
import { buildEnvelope, EventPublisher, sendEnvelope, type LifecycleEvent } from '@nightshift/broker';
import { startTelemetry, type Telemetry } from '@nightshift/telemetry';
import { eventually, freePort, removeRedisKeys, requireServices, TcpProxy } from '@nightshift/test-helpers';
import { ledger } from './fixtures/app.ts';
import { harness, type Harness } from './support.ts';

let telemetry: Telemetry;
/** Closed at the end of each test: the workers' gauges must not outlive it. */
const open: { close(): Promise<void> }[] = [];

before(async () => {
  telemetry = await startTelemetry({ service: 'worker-test', metricsPort: 0, logLevel: 'silent' });
});
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close();
});
after(async () => {
  await telemetry?.shutdown();
});

async function installation(redisUrl: string, env: Record<string, string> = {}) {
  const h: Harness = await harness({ NIGHTSHIFT_REDIS_URL: redisUrl, ...env });
  open.push(h);
  const publisher = new EventPublisher(h.client.broker);
  await publisher.ready();
  open.push(publisher);
  const marker = h.marker('ledger');
  return {
    h, marker,
    /** A `ledger` message; `publish` sends it, again on each call (same id, same attempt). */
    task: () => {
      const envelope = buildEnvelope(undefined, ledger, [0, marker], {}, 'test');
      return { envelope, publish: () => sendEnvelope(h.client.broker, envelope, publisher) };
    },
    starts: (id: string) => (existsSync(marker) ? readFileSync(marker, 'utf8') : '').split('\n').filter((line) => line.startsWith(`start ${id} `)).length,
    warnings: () => h.logs.filter((l) => l.level === 'warn' && l.msg.startsWith('completion records: Redis is unavailable, so duplicates are not suppressed')),
  };
}

async function metric(series: string): Promise<number> {
  const text = await (await fetch(telemetry.metricsUrl)).text();
  const line = text.split('\n').find((l) => l.startsWith(series));
  return Number(line?.split(' ').at(-1) ?? Number.NaN);
}
const skipped = (operation: 'check' | 'write') => metric(`nightshift_completion_records_skipped_total{operation="${operation}"`);
const eventOf = (type: LifecycleEvent['type'], id: string) => (e: LifecycleEvent) => e.type === type && e.id === id;

test('Redis unreachable: tasks run, a warning says duplicates are not suppressed, skipped checks and writes are counted', async () => {
  const { h, task, starts, warnings } = await installation(`redis://127.0.0.1:${await freePort()}`);
  const first = await h.worker({ name: `first-${randomUUID().slice(0, 8)}` });
  const [checks, writes] = [await skipped('check'), await skipped('write')];
  const { envelope, publish } = task();
  await publish();
  await h.waitForEvent(eventOf('task.succeeded', envelope.id));
  assert.equal(warnings().length, 1, JSON.stringify(h.logs));
  assert.match(String(warnings()[0]?.fields.redis), /^redis:\/\/127\.0\.0\.1:\d+$/);
  assert.equal(await skipped('check'), checks + 1);
  assert.equal(await skipped('write'), writes + 1);
  assert.equal(await metric('nightshift_completion_records_up'), 0);

  // The worker remembers what it finished itself: a copy coming back to it is still acked without running.
  await publish();
  await h.waitForEvent(eventOf('task.duplicate-suppressed', envelope.id));
  assert.equal(starts(envelope.id), 1);
  // Another worker has only Redis to ask: the copy runs again there (at-least-once), as the warning said.
  await first.stop();
  await h.worker({ name: `second-${randomUUID().slice(0, 8)}` });
  await publish();
  await eventually('the copy to succeed on the second worker', () => h.events.filter(eventOf('task.succeeded', envelope.id)).length === 2);
  assert.equal(starts(envelope.id), 2);
  assert.equal(warnings().length, 2, 'one warning per worker, not per task');
});

test('Redis lost mid-run and back: tasks keep running, one warning, one line when it is back, and duplicates are suppressed again', async () => {
  const { redisUrl } = await requireServices('redis');
  const proxy = await TcpProxy.start(redisUrl);
  open.push(proxy); // closed after the installation, which still talks to Redis through it as it stops
  const { h, task, starts, warnings } = await installation(proxy.url(redisUrl));
  const first = await h.worker({ name: `first-${randomUUID().slice(0, 8)}` });
  const before = task();
  await before.publish();
  await h.waitForEvent(eventOf('task.succeeded', before.envelope.id));

  await proxy.cut();
  await eventually('the warning', () => warnings().length === 1);
  const during = task();
  await during.publish();
  await h.waitForEvent(eventOf('task.succeeded', during.envelope.id));

  await proxy.restore();
  await eventually('the line saying Redis is back', () => h.logs.some((l) => l.level === 'info' && l.msg.startsWith('completion records: Redis is reachable again')), 15_000);
  // A worker that never saw the first task finds its record in Redis.
  await first.stop();
  await h.worker({ name: `second-${randomUUID().slice(0, 8)}` });
  await before.publish();
  await h.waitForEvent(eventOf('task.duplicate-suppressed', before.envelope.id));
  assert.equal(starts(before.envelope.id), 1);
  assert.equal(warnings().length, 1);
});

test('Redis down when the worker starts: it starts all the same, and uses Redis once it comes up', async () => {
  const { redisUrl } = await requireServices('redis');
  const proxy = await TcpProxy.start(redisUrl);
  open.push(proxy); // closed after the installation, which still talks to Redis through it as it stops
  await proxy.cut();
  const { h, task, warnings } = await installation(proxy.url(redisUrl));
  await h.worker();
  assert.equal(warnings().length, 1);
  assert.equal(warnings()[0]?.fields.why, 'not reachable at start-up');
  const checks = await skipped('check');
  const during = task();
  await during.publish();
  await h.waitForEvent(eventOf('task.succeeded', during.envelope.id));
  assert.equal(await skipped('check'), checks + 1);

  await proxy.restore();
  await eventually('the line saying Redis is reachable', () => h.logs.some((l) => l.level === 'info' && l.msg.startsWith('completion records: Redis is reachable again')), 15_000);
  const after = task();
  await after.publish();
  await h.waitForEvent(eventOf('task.succeeded', after.envelope.id));
  assert.equal(await skipped('check'), checks + 1, 'checked in Redis, not skipped');
  assert.equal(await metric('nightshift_completion_records_up'), 1);
});

test('a Redis that stops answering: a check waits at most NIGHTSHIFT_COMPLETION_TIMEOUT, then the task runs without it', async () => {
  const { redisUrl } = await requireServices('redis');
  const stalling = await StallingProxy.start(redisUrl);
  open.push(stalling);
  const { h, task, warnings } = await installation(stalling.url, { NIGHTSHIFT_COMPLETION_TIMEOUT: '100ms' });
  // The harness cannot delete what the worker wrote before the stall through the stalled proxy: straight to Redis.
  open.splice(open.indexOf(stalling) + 1, 0, { close: () => removeRedisKeys(redisUrl, h.config.prefix) });
  await h.worker();
  const first = task();
  await first.publish();
  await h.waitForEvent(eventOf('task.succeeded', first.envelope.id));
  assert.equal(warnings().length, 0, 'answering, Redis is used');

  stalling.stall();
  const checks = await skipped('check');
  const tasks = Array.from({ length: 5 }, () => task());
  for (const t of tasks) await t.publish();
  for (const t of tasks) await h.waitForEvent(eventOf('task.succeeded', t.envelope.id));
  assert.equal(warnings().length, 1);
  assert.match(String(warnings()[0]?.fields.why), /timed out/i);
  assert.ok(await skipped('check') > checks, 'the checks that timed out, and the ones skipped after, are counted');
});

/** A TCP proxy to Redis that, once stalled, keeps its connections open and forwards nothing more: a hung server. */
class StallingProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #stalled = false;
  #port = 0;

  private constructor(target: URL) {
    this.#server = createServer((client) => {
      const upstream = connectTcp(Number(target.port), target.hostname);
      for (const socket of [client, upstream]) {
        this.#sockets.add(socket);
        socket.on('error', () => {});
        socket.on('close', () => this.#sockets.delete(socket));
      }
      client.on('data', (chunk) => this.#stalled || upstream.write(chunk));
      upstream.on('data', (chunk) => this.#stalled || client.write(chunk));
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
  }

  static async start(redisUrl: string): Promise<StallingProxy> {
    const proxy = new StallingProxy(new URL(redisUrl));
    await new Promise<void>((resolve) => proxy.#server.listen(0, '127.0.0.1', resolve));
    proxy.#port = (proxy.#server.address() as { port: number }).port;
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.#port}`;
  }

  stall(): void {
    this.#stalled = true;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
