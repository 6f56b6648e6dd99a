// One beat process, in-process replicas on the real Redis and RabbitMQ, each test under its own prefix.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, defineApp, defineTask, type AnyApp, type Logger, type NightshiftConfig } from '@nightshift/core';
import { startBeatService, type BeatOptions, type BeatService } from '@nightshift/beat';
import { runId } from '@nightshift/beat-state';
import { Broker, brokerOptions } from '@nightshift/broker';
import { beatTestFile, capturingLogger, cleanupPrefix, eventually, QueueTap, sleep, TcpProxy, testConfig } from './support.ts';

const tick = defineTask({ name: 'clock.tick', queue: 'ticks', run: (_ctx, _label: string) => undefined });
const everySecond = defineApp({
  name: 'beat-test', tasks: [tick], timezone: 'Europe/Berlin',
  schedule: [{ name: 'tick', task: 'clock.tick', schedule: { every: '1s' }, args: ['second'], kwargs: { source: 'beat' } }],
});

const file = beatTestFile('beat-test');
const { cleanups } = file;

async function replica(config: NightshiftConfig, app: AnyApp, options: BeatOptions & { log?: Logger } = {}): Promise<BeatService> {
  const service = await startBeatService({ app, config, log: options.log ?? capturingLogger('silent').log, meter: file.telemetry.meter, ...options });
  cleanups.push(() => service.stop());
  return service;
}

async function scrape(): Promise<string> {
  return (await fetch(file.telemetry.metricsUrl)).text();
}

function metric(body: string, name: string, labels: Record<string, string>): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name}{`) && Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

function assertEverySecondOnce(fireTimes: readonly number[], what: string): void {
  assert.equal(new Set(fireTimes).size, fireTimes.length, `${what}: no run twice`);
  const sorted = [...fireTimes].sort((a, b) => a - b);
  sorted.forEach((at, i) => i > 0 && assert.equal(at - (sorted[i - 1] as number), 1_000, `${what}: no second missing before ${new Date(at).toISOString()}`));
}

test('a one-second entry arrives every second, on time, once, with its run as message id; one of two replicas leads', async () => {
  const config = await testConfig('beat-send');
  cleanups.push(() => cleanupPrefix(config, ['ticks']));
  // Both taps listen before beat starts, so every run it sends is seen, and so is its event.
  const setup = await Broker.connect(brokerOptions(config, 'beat-test-setup'));
  await setup.ensureQueue('ticks');
  await setup.close();
  const tap = await QueueTap.open(config, 'ticks');
  const events = await QueueTap.events(config);
  cleanups.push(() => tap.close(), () => events.close());
  // A renewal period (10 s) far longer than the handover may take: the follower must hear of the release.
  const first = await replica(config, everySecond, { replica: 'r1', leaseTtl: '30s' });
  await eventually('r1 to lead', () => first.beat.leading);
  const second = await replica(config, everySecond, { replica: 'r2', leaseTtl: '30s' });
  await eventually('four runs', () => tap.received.length >= 4, 8_000);
  await sleep(300);

  assert.equal(first.beat.leading, true);
  assert.equal(second.beat.leading, false, 'only one replica dispatches');
  const fireTimes = tap.scheduledFor();
  assertEverySecondOnce(fireTimes, 'two replicas');
  for (const { envelope, messageId, headers } of tap.received) {
    assert.equal(envelope.origin.type, 'beat');
    if (envelope.origin.type !== 'beat') continue;
    const scheduledFor = Date.parse(envelope.origin.scheduledFor);
    assert.equal(scheduledFor % 1_000, 0, 'on the second');
    assert.deepEqual(envelope.origin, { type: 'beat', beat: 'tick', scheduledFor: new Date(scheduledFor).toISOString() });
    assert.equal(messageId, runId('tick', scheduledFor));
    assert.equal(envelope.id, messageId);
    assert.deepEqual(envelope.args, ['second']);
    assert.deepEqual(envelope.kwargs, { source: 'beat' });
    assert.equal(envelope.queue, 'ticks');
    assert.ok(Date.parse(envelope.sentAt) - scheduledFor < 250, `sent on time, got ${Date.parse(envelope.sentAt) - scheduledFor}ms late`);
    assert.match(String(headers.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/, 'starts a trace');
  }
  const traces = new Set(tap.received.map((r) => String(r.headers.traceparent).split('-')[1]));
  assert.equal(traces.size, tap.received.length, 'each run is its own trace');

  // The runs seen so far (more arrive every second): each has its event.
  const runIds = tap.received.map((r) => r.messageId);
  await eventually('an event per run', () => runIds.every((id) => events.events.some((e) => e.id === id)));
  const event = events.events.find((e) => e.id === tap.received[0]?.messageId);
  assert.ok(event, 'a beat.dispatched event per run');
  assert.equal(event.type, 'beat.dispatched');
  assert.equal(event.entry, 'tick');
  assert.equal(event.replica, 'r1');
  assert.equal(typeof event.lagMs, 'number');

  const body = await scrape();
  assert.ok((metric(body, 'nightshift_beat_runs_dispatched_total', { entry: 'tick', task: 'clock.tick' }) ?? 0) >= 4, body);
  assert.ok((metric(body, 'nightshift_beat_dispatch_lag_count', { entry: 'tick' }) ?? 0) >= 4);
  assert.equal(metric(body, 'nightshift_beat_leader', { replica: 'r1' }), 1);
  assert.equal(metric(body, 'nightshift_beat_leader', { replica: 'r2' }), 0);
  assert.equal(metric(body, 'nightshift_beat_redis_up', { replica: 'r1' }), 1);
  const next = metric(body, 'nightshift_beat_next_fire_time', { entry: 'tick' }) ?? 0;
  assert.ok(Math.abs(next - Date.now() / 1000) < 2, `next fire time is about now, got ${next}`);

  // A clean stop hands the lease over at once, without waiting for the follower's next try: no gap.
  await first.stop();
  const before = tap.received.length;
  await eventually('r2 to lead', () => second.beat.leading, 1_000);
  await eventually('two more runs', () => tap.received.length >= before + 2, 5_000);
  assertEverySecondOnce(tap.scheduledFor(), 'across a clean handover');
});

test('without Redis beat sends nothing, says so, and resumes when Redis answers', async () => {
  const config0 = await testConfig('beat-redis');
  const proxy = await TcpProxy.start(config0.redisUrl);
  const config = { ...config0, redisUrl: proxy.url(config0.redisUrl) };
  cleanups.push(() => proxy.close(), () => cleanupPrefix(config0, ['ticks']));
  const { log, lines } = capturingLogger();
  const service = await replica(config, everySecond, { replica: 'redis-r', leaseTtl: '1500ms', log });
  const tap = await QueueTap.open(config, 'ticks');
  cleanups.push(() => tap.close());
  await eventually('two runs', () => tap.received.length >= 2, 6_000);

  const cutAt = Date.now();
  await proxy.cut();
  await eventually('beat to stop leading', () => !service.beat.leading, 3_000);
  // Beat's own moment (its log line), not when this test's polling noticed: a busy machine delays the latter.
  const stopLine = lines().find((l) => /no longer leader/.test(String(l.msg)) && Date.parse(String(l.time)) >= cutAt);
  assert.ok(stopLine, 'the log says it stopped leading');
  const stoppedAfterMs = Date.parse(String(stopLine.time)) - cutAt;
  assert.ok(stoppedAfterMs <= 1_500, `stopped leading within the lease (${stoppedAfterMs}ms)`);
  await sleep(2_500);
  const sentDuringOutage = tap.received.filter((r) => Date.parse(r.envelope.sentAt) > cutAt + 1_500);
  assert.deepEqual(sentDuringOutage, [], 'nothing sent once the lease could have expired');
  assert.ok(lines().some((l) => /Redis is unreachable/.test(String(l.msg))), 'the log says why');
  assert.equal(metric(await scrape(), 'nightshift_beat_redis_up', { replica: 'redis-r' }), 0);
  assert.equal(metric(await scrape(), 'nightshift_beat_leader', { replica: 'redis-r' }), 0);

  const countBefore = tap.received.length;
  await proxy.restore();
  await eventually('beat to lead again', () => service.beat.leading, 6_000);
  await eventually('runs again', () => tap.received.length >= countBefore + 3, 6_000);
  assert.ok(lines().some((l) => /Redis answers again/.test(String(l.msg))));
  assert.equal(metric(await scrape(), 'nightshift_beat_redis_up', { replica: 'redis-r' }), 1);
  const times = tap.scheduledFor();
  assert.equal(new Set(times).size, times.length, 'no run twice');
  // Policy 'once': the seconds missed while Redis was away became one catch-up run, then every second again.
  const gaps = times.slice(1).map((at, i) => at - (times[i] as number)).filter((gap) => gap !== 1_000);
  assert.equal(gaps.length, 1, `one gap, covered by one catch-up run: ${times.map((t) => new Date(t).toISOString()).join(', ')}`);
});

test('while the broker is down a run is retried until its grace ends, then counted missed; none is sent twice', async () => {
  const config0 = await testConfig('beat-broker');
  const proxy = await TcpProxy.start(config0.amqpUrl);
  const config = { ...config0, amqpUrl: proxy.url(config0.amqpUrl) };
  cleanups.push(() => proxy.close(), () => cleanupPrefix(config0, ['ticks', 'catchup']));
  const catchUp = defineTask({ name: 'clock.catchUp', queue: 'catchup', run: () => undefined });
  const app = defineApp({
    name: 'beat-test-broker', tasks: [tick, catchUp],
    schedule: [
      // Every run matters: retried for up to 30 s, each sent once the broker is back.
      { name: 'every', task: 'clock.catchUp', schedule: { every: '1s' }, misfire: { policy: 'all', grace: '30s' } },
      // A run is worth nothing after the next one is due: missed while the broker is away.
      { name: 'latest', task: 'clock.tick', schedule: { every: '1s' }, args: ['latest'], misfire: 'once' },
    ],
  });
  const { log, lines } = capturingLogger();
  const service = await replica(config, app, { replica: 'broker-r', publishAttemptTimeout: '400ms', log });
  const every = await QueueTap.open(config0, 'catchup');
  const latest = await QueueTap.open(config0, 'ticks');
  cleanups.push(() => every.close(), () => latest.close());
  await eventually('leader', () => service.beat.leading);
  await eventually('two runs of each', () => every.received.length >= 2 && latest.received.length >= 2, 6_000);

  // Cut just after a run was confirmed, so no publish is in flight at the cut.
  const seen = every.received.length;
  await eventually('the next run', () => every.received.length > seen, 2_000);
  await proxy.cut();
  const cutAt = Date.now();
  await sleep(3_500);
  await proxy.restore();
  const restoredAt = Date.now();
  await eventually('the missed runs of "every" to arrive', () => every.scheduledFor().some((at) => at > cutAt + 4_000), 15_000);
  await sleep(1_500);

  assertEverySecondOnce(every.scheduledFor(), '"every" (policy all, grace 30s)');
  // A publish of "latest" in flight at the cut may have been stored although its confirm was lost with the
  // connection; RabbitMQ cannot say, so the run may be sent again (the publisher marks such a copy). What
  // holds: only a run due around the outage can arrive twice, and its copies share the run's message id, so
  // a consumer can drop the second (the broker cannot, see the README on at-least-once).
  const byRun = new Map<number, (string | undefined)[]>();
  latest.received.forEach((r, i) => {
    const at = latest.scheduledFor()[i] ?? Number.NaN;
    byRun.set(at, [...(byRun.get(at) ?? []), r.messageId]);
  });
  for (const [at, ids] of byRun) {
    if (ids.length === 1) continue;
    assert.ok(at >= cutAt - 1_500 && at <= restoredAt + 1_500, `"latest" ${new Date(at).toISOString()}: sent ${ids.length} times, though not due around the outage`);
    assert.equal(new Set(ids).size, 1, `"latest" ${new Date(at).toISOString()}: its copies share the run's message id`);
  }
  assert.ok(lines().some((l) => l.entry === 'latest' && /run missed: the broker did not take the run before its grace ended/.test(String(l.msg))), 'the log says which run was missed and why');
  assert.ok((metric(await scrape(), 'nightshift_beat_runs_missed_total', { entry: 'latest', reason: 'expired' }) ?? 0) >= 1);
  assert.equal(metric(await scrape(), 'nightshift_beat_runs_missed_total', { entry: 'every', reason: 'expired' }), undefined, 'nothing of "every" was missed');
});

test('a bad schedule entry stops start-up with an error naming it, before anything connects', async () => {
  const config = await testConfig('beat-bad');
  const bad = defineApp({ name: 'bad', tasks: [tick], schedule: [{ name: 'nightly', task: 'clock.tick', schedule: '0 25 * * *' }] });
  await assert.rejects(replica(config, bad), (error: unknown) => error instanceof ConfigError && /schedule\[0\] "nightly" "0 25 \* \* \*": hour "25"/.test(error.message));
});

test('a run whose message was built ahead of its fire time says when it went: sentAt at or after the fire time, expires counted from it, its line in its trace', async () => {
  const config = await testConfig('beat-ahead');
  cleanups.push(() => cleanupPrefix(config, ['ticks']));
  const setup = await Broker.connect(brokerOptions(config, 'beat-test-setup'));
  await setup.ensureQueue('ticks');
  await setup.close();
  const tap = await QueueTap.open(config, 'ticks');
  cleanups.push(() => tap.close());
  const app = defineApp({
    name: 'beat-ahead', tasks: [tick],
    schedule: [{ name: 'tick', task: 'clock.tick', schedule: { every: '1s' }, args: ['second'], options: { expires: '1m' } }],
  });
  const logger = capturingLogger('info');
  await replica(config, app, { replica: 'r1', log: logger.log });
  await eventually('three runs', () => tap.received.length >= 3, 8_000);
  await sleep(100);

  for (const { envelope, headers, receivedAt } of tap.received) {
    if (envelope.origin.type !== 'beat') continue;
    const scheduledFor = Date.parse(envelope.origin.scheduledFor);
    const sentAt = Date.parse(envelope.sentAt);
    assert.ok(sentAt >= scheduledFor && sentAt <= receivedAt, `sentAt ${envelope.sentAt}: between its fire time ${envelope.origin.scheduledFor} and its arrival`);
    assert.equal(Date.parse(String(envelope.expires)) - sentAt, 60_000, 'expires one minute after it was sent');
    const line = logger.lines().find((l) => l.msg === 'dispatched' && l.id === envelope.id);
    assert.ok(line, `a 'dispatched' line for ${envelope.id}`);
    assert.equal(line.trace_id, String(headers.traceparent).split('-')[1], 'the line is in the run\'s trace');
  }
});
