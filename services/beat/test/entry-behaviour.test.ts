// What each entry may ask of beat beyond its schedule: an overlap policy, jitter, start and end dates, its own
// time zone. One beat replica in-process on the real Redis, RabbitMQ and (for overlap) PostgreSQL.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connect, type ConsumeMessage } from 'amqplib';
import { Redis } from 'ioredis';
import { decode, defineApp, defineTask, type AnyApp, type Logger, type NightshiftConfig } from '@nightshift/core';
import { startBeatService, type BeatOptions, type BeatService } from '@nightshift/beat';
import { beatKeys, runId } from '@nightshift/beat-state';
import { jitterOffsetMs } from '@nightshift/schedule';
import { TaskRuns, type ScheduleRecords } from '@nightshift/store';
import { beatTestFile, capturingLogger, cleanupPrefix, eventually, QueueTap, sleep, testConfig } from './support.ts';
import { declareQueues, eventTap, missedCount, runtimeStore } from './runtime-support.ts';

// A run may last 10 s and is never retried: its horizon is 10 s.
const slow = defineTask({ name: 'reports.slow', queue: 'slow', timeLimit: '10s', softTimeLimit: '9s', retry: { maxRetries: 0 }, run: () => undefined });
const tick = defineTask({ name: 'clock.tick', queue: 'ticks', run: () => undefined });
const app = defineApp({ name: 'beat-behaviour', tasks: [slow, tick] });

const file = beatTestFile('beat-behaviour-test');
const { cleanups } = file;

async function replica(config: NightshiftConfig, beatApp: AnyApp, options: BeatOptions & { log?: Logger; store?: { url: string; schema: string } } = {}): Promise<BeatService> {
  const service = await startBeatService({ app: beatApp, config, log: options.log ?? capturingLogger('silent').log, meter: file.telemetry.meter, ...options });
  cleanups.push(() => service.stop());
  return service;
}

interface Run {
  readonly id: string;
  readonly scheduledFor: number;
  readonly startedAt: number;
  finishedAt?: number;
}

/**
 * A worker and the health-api's recorder in one: takes each run of `queue` at once (any number at a time, so that
 * nothing here keeps two runs apart), records it started in the task history, and succeeded `runMs` later.
 */
async function slowWorker(config: NightshiftConfig, records: ScheduleRecords, queue: string, runMs: number): Promise<{ runs: Run[]; close: () => Promise<void> }> {
  const history = new TaskRuns(records.store);
  const connection = await connect(config.amqpUrl);
  const channel = await connection.createChannel();
  const runs: Run[] = [];
  const pending = new Set<Promise<unknown>>();
  await channel.consume(`${config.prefix}.q.${queue}`, (message: ConsumeMessage | null) => {
    if (!message) return;
    const decoded = decode(message.content);
    if (!decoded.ok || decoded.envelope.origin.type !== 'beat') return;
    const { envelope } = decoded;
    const run: Run = { id: envelope.id, scheduledFor: Date.parse(envelope.origin.type === 'beat' ? envelope.origin.scheduledFor : ''), startedAt: Date.now() };
    runs.push(run);
    const base = { runId: envelope.id, name: envelope.task, attempt: 1, queue, sentAt: envelope.sentAt, origin: envelope.origin as unknown as Record<string, unknown> };
    const work = (async () => {
      await history.record([{ ...base, state: 'started', at: new Date(run.startedAt).toISOString() }]);
      await sleep(runMs);
      const finishedAt = Date.now();
      await history.record([{ ...base, state: 'succeeded', at: new Date(finishedAt).toISOString(), runtimeMs: finishedAt - run.startedAt }]);
      run.finishedAt = Date.now();
    })();
    pending.add(work);
    void work.finally(() => pending.delete(work));
  }, { noAck: true });
  return { runs, close: async () => {
    await Promise.allSettled([...pending]);
    await connection.close().catch(() => {});
  } };
}

const iso = (at: number | undefined) => (at === undefined ? '…' : new Date(at).toISOString().slice(11, 23));

for (const overlap of ['skip', 'buffer-one'] as const) {
  test(`overlap ${overlap}: an every-second entry whose runs take 2.5 s never has two runs at once; the fires in between are counted (overlap)`, { timeout: 60_000 }, async (t) => {
    const config = await testConfig(`beat-${overlap}`);
    const db = await runtimeStore();
    cleanups.push(db.cleanup, () => cleanupPrefix(config, ['slow', 'ticks']));
    await declareQueues(config, ['slow']);
    const worker = await slowWorker(config, db.records, 'slow', 2_500);
    const events = await eventTap(config, ['beat.missed']);
    cleanups.push(() => worker.close(), () => events.close());
    const service = await replica(config, app, { replica: overlap, store: { url: db.url, schema: db.store.schema } });
    await eventually('leader', () => service.beat.leading);
    await db.records.insert('slow-report', { name: 'slow-report', task: 'reports.slow', schedule: { every: '1s' }, overlap }, null, 'ana');
    await eventually('four finished runs', () => worker.runs.filter((r) => r.finishedAt !== undefined).length >= 4, 40_000);
    await service.stop();
    await sleep(300);

    const runs = [...worker.runs].sort((a, b) => a.startedAt - b.startedAt);
    t.diagnostic(runs.map((r) => `${iso(r.scheduledFor)}: ${iso(r.startedAt)}–${iso(r.finishedAt)}`).join(', '));
    runs.slice(1).forEach((run, i) => {
      const before = runs[i] as Run;
      assert.ok(before.finishedAt !== undefined && run.startedAt >= before.finishedAt,
        `${iso(run.scheduledFor)} started at ${iso(run.startedAt)}, while ${iso(before.scheduledFor)} ran until ${iso(before.finishedAt)}`);
    });
    assert.equal(new Set(runs.map((r) => r.id)).size, runs.length, 'no run twice');
    const counted = missedCount(events.events, 'slow-report', 'overlap');
    assert.ok(counted >= runs.length, `the fires that came due while a run was running are counted (${counted})`);
    if (overlap === 'buffer-one') {
      // A fire that came due while the last run ran was held and sent once it finished, not skipped.
      const held = runs.slice(1).filter((run, i) => run.scheduledFor < ((runs[i] as Run).finishedAt ?? 0));
      assert.ok(held.length >= 2, `runs held for the one before: ${held.map((r) => iso(r.scheduledFor)).join(', ')}`);
    } else {
      runs.slice(1).forEach((run, i) => assert.ok(run.scheduledFor >= ((runs[i] as Run).finishedAt ?? 0) - 1_000, `skip sends a fire time that came due after the last run finished: ${iso(run.scheduledFor)}`));
    }
  });
}

test('overlap skip: a run a person sent a moment ago (run now, backfill) holds the next fires before the history shows it', { timeout: 30_000 }, async () => {
  const config = await testConfig('beat-person-sent');
  const db = await runtimeStore();
  cleanups.push(db.cleanup, () => cleanupPrefix(config, ['slow']));
  await declareQueues(config, ['slow']);
  const events = await eventTap(config, ['beat.dispatched', 'beat.missed']);
  cleanups.push(() => events.close());
  const redis = new Redis(config.redisUrl);
  cleanups.push(async () => redis.disconnect());
  // What a run now writes as it sends (the history is not written here at all): its horizon is 10 s.
  await redis.hset(beatKeys(config.prefix).personSent, 'held-report', JSON.stringify({ id: 'beat:held-report:manual', sentAtMs: Date.now() }));
  const service = await replica(config, app, { replica: 'person-sent', store: { url: db.url, schema: db.store.schema } });
  await eventually('leader', () => service.beat.leading);
  await db.records.insert('held-report', { name: 'held-report', task: 'reports.slow', schedule: { every: '1s' }, overlap: 'skip' }, null, 'ana');
  await eventually('three fires skipped for overlap', () => missedCount(events.events, 'held-report', 'overlap') >= 3, 15_000);
  const dispatched = events.events.filter((e) => e.entry === 'held-report' && !('reason' in e));
  assert.deepEqual(dispatched, [], 'nothing sent while the person\'s run may still be running');
});

test('jitter: each run is sent its fixed offset after its fire time, with the fire time as its claim and id', async () => {
  const config = await testConfig('beat-jitter');
  cleanups.push(() => cleanupPrefix(config, ['ticks']));
  await declareQueues(config, ['ticks']);
  const tap = await QueueTap.open(config, 'ticks');
  const events = await eventTap(config, ['beat.dispatched']);
  cleanups.push(() => tap.close(), () => events.close());
  const jittered = defineApp({ name: 'beat-jitter', tasks: [tick], schedule: [{ name: 'spread', task: 'clock.tick', schedule: { every: '2s' }, jitter: '1500ms' }] });
  await replica(config, jittered, { replica: 'jitter' });
  await eventually('four runs', () => tap.received.length >= 4, 15_000);

  const offsets = tap.received.map((r, i) => {
    const fire = tap.scheduledFor()[i] as number;
    const offset = jitterOffsetMs('spread', fire, 1_500);
    assert.equal(r.messageId, runId('spread', fire), 'the id is the fire time\'s');
    assert.ok(Date.parse(r.envelope.sentAt) >= fire + offset, `${iso(fire)} sent at ${r.envelope.sentAt}, not before its offset ${offset} ms`);
    return offset;
  });
  assert.ok(new Set(offsets).size > 1, `the offsets differ from one fire time to the next: ${offsets.join(', ')}`);
  await eventually('the events', () => events.events.length >= 4);
  for (const event of events.events) {
    assert.equal(event.jitterMs, jitterOffsetMs('spread', Date.parse(String(event.scheduledFor)), 1_500), 'the event says the offset');
  }
  const redis = new Redis(config.redisUrl);
  const claim = await redis.get(beatKeys(config.prefix).run('spread', tap.scheduledFor()[0] as number)).finally(() => redis.disconnect());
  assert.match(String(claim), /"state":"sent"/, 'claimed under its fire time');
});

test('startAt and endAt: no fire time before the start or after the end', async () => {
  const config = await testConfig('beat-window');
  cleanups.push(() => cleanupPrefix(config, ['ticks']));
  await declareQueues(config, ['ticks']);
  const tap = await QueueTap.open(config, 'ticks');
  cleanups.push(() => tap.close());
  const startAt = Math.ceil(Date.now() / 1_000) * 1_000 + 2_000;
  const endAt = startAt + 2_500;
  const windowed = defineApp({
    name: 'beat-window', tasks: [tick],
    schedule: [{ name: 'window', task: 'clock.tick', schedule: { every: '1s' }, startAt: new Date(startAt), endAt: new Date(endAt) }],
  });
  const { log, lines } = capturingLogger();
  await replica(config, windowed, { replica: 'window', log });
  await eventually('the end', () => lines().some((l) => /has ended/.test(String(l.msg))), 10_000);
  await sleep(1_500);
  assert.deepEqual(tap.scheduledFor(), [startAt, startAt + 1_000, startAt + 2_000], 'exactly the fire times from startAt through endAt');
});

test('an entry\'s own time zone: its cron is read there (a catch-up after downtime falls on its zone\'s hour)', async () => {
  const config = await testConfig('beat-zone');
  cleanups.push(() => cleanupPrefix(config, ['ticks']));
  await declareQueues(config, ['ticks']);
  const tap = await QueueTap.open(config, 'ticks');
  cleanups.push(() => tap.close());
  // Kathmandu is 5:45 ahead of UTC: its hours begin at a quarter past the UTC hour. The app itself is in UTC.
  const zoned = defineApp({
    name: 'beat-zone', tasks: [tick], timezone: 'UTC',
    schedule: [{ name: 'hourly-kathmandu', task: 'clock.tick', schedule: '0 * * * *', timezone: 'Asia/Kathmandu', misfire: { policy: 'once', grace: '2h' } }],
  });
  // Seeded: the last run three hours ago, so the hours since are due at once.
  const redis = new Redis(config.redisUrl);
  await redis.hset(beatKeys(config.prefix).lastRun, 'hourly-kathmandu', String(Date.now() - 3 * 3_600_000)).finally(() => redis.disconnect());
  await replica(config, zoned, { replica: 'zone' });
  await eventually('the catch-up run', () => tap.received.length >= 1, 10_000);
  const fire = new Date(tap.scheduledFor()[0] as number);
  assert.equal(fire.getUTCMinutes(), 15, `the newest Kathmandu hour, at a quarter past a UTC hour: ${fire.toISOString()}`);
  assert.ok(Date.now() - fire.getTime() < 3_600_000, 'the newest one');
});
