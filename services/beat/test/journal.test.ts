// Proof for the takeover after a crash (issue 18): a leader claims runs, publishes some of them and dies before
// recording any. The next leader sends each run exactly once, by id, none marked as a possible second copy: the beat
// journal tells it which runs the dead leader had published. Where the journal cannot tell (claims of a beat without
// it), it falls back to sending them all again, marked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { defineApp, defineTask, type NightshiftConfig } from '@nightshift/core';
import { Broker, brokerOptions, createClient, REPUBLISHED_HEADER } from '@nightshift/broker';
import { JOURNAL_BCC, Lease, RunJournal, RunLedger, startBeatService } from '@nightshift/beat';
import { beatKeys, runId } from '@nightshift/beat-state';
import { beatTestFile, capturingLogger, cleanupPrefix, eventually, QueueTap, sleep, testConfig } from './support.ts';

const HOUR = 3_600_000;
const ENTRIES = 40;
const NAMES = Array.from({ length: ENTRIES }, (_, i) => `customer-${String(i).padStart(2, '0')}`);
const report = defineTask({ name: 'report.send', queue: 'reports', run: () => undefined });
const app = defineApp({
  name: 'beat-journal-test', tasks: [report],
  schedule: NAMES.map((name) => ({ name, task: 'report.send', schedule: { every: '1h' } })),
});

const file = beatTestFile('beat-test');
const { cleanups } = file;

/**
 * A leader that claims every entry's last hourly run, publishes the even ones (as beat does, journalled unless
 * `journal` is false) and dies before recording any. Returns the runs' ids, published first.
 */
async function deadLeader(config: NightshiftConfig, redis: Redis, journal: boolean): Promise<{ published: string[]; unpublished: string[] }> {
  const keys = beatKeys(config.prefix);
  const lease = new Lease(redis, keys, 10_000, 'dead');
  assert.equal(await lease.refresh(), true);
  const ledger = new RunLedger(redis, keys, lease, HOUR, 'dead');
  if (journal) {
    const broker = await Broker.connect(brokerOptions(config, 'beat-journal-test'));
    ledger.journaled = await new RunJournal(broker, capturingLogger('silent').log).declare();
    await broker.close();
    assert.equal(ledger.journaled, true, 'the journal is declared');
  }
  const fireMs = Math.floor(Date.now() / HOUR) * HOUR;
  const client = await createClient(config, { app, name: 'dead-leader' });
  const published: string[] = [];
  const unpublished: string[] = [];
  try {
    for (const name of NAMES) {
      assert.notEqual(await ledger.start(name, fireMs - 1), 'not-leader');
      assert.equal(await ledger.claim(name, fireMs), 'claimed');
    }
    await Promise.all(NAMES.map(async (name, i) => {
      const id = runId(name, fireMs);
      if (i % 2 === 1) {
        unpublished.push(id);
        return;
      }
      await client.send('report.send', [], { id, origin: { type: 'beat', beat: name, scheduledFor: new Date(fireMs).toISOString() }, ...(journal ? { bcc: JOURNAL_BCC } : {}) });
      published.push(id);
    }));
  } finally {
    await client.close();
  }
  // It dies: its lease lapses (here, at once).
  lease.drop();
  await redis.del(keys.lease);
  return { published, unpublished };
}

async function takeOver(config: NightshiftConfig) {
  const { log, lines } = capturingLogger('info');
  const service = await startBeatService({ app, config, log, meter: file.telemetry.meter, replica: 'next' });
  cleanups.push(() => service.stop());
  return { service, lines };
}

test('a new leader sends each run the dead one left unrecorded exactly once: those it had published are not sent again', { timeout: 60_000 }, async () => {
  const config = await testConfig('beat-journal');
  const redis = new Redis(config.redisUrl);
  cleanups.push(async () => redis.disconnect(), () => cleanupPrefix(config, ['reports']));
  const tap = await (async () => {
    const { published, unpublished } = await deadLeader(config, redis, true);
    const opened = await QueueTap.open(config, 'reports');
    cleanups.push(() => opened.close());
    const { lines } = await takeOver(config);
    const all = [...published, ...unpublished];
    await eventually('every run in the queue', () => all.every((id) => opened.received.some((r) => r.messageId === id)), 20_000).catch((error: Error) => {
      throw new Error(`${error.message}; beat said:\n${lines().map((l) => String(l.msg)).join('\n')}`);
    });
    // Time for a second copy to arrive, if one was sent.
    await sleep(1_500);
    return { received: opened.received.filter((r) => all.includes(r.messageId ?? '')), lines, published, unpublished };
  })();
  const ids = tap.received.map((r) => r.messageId);
  assert.equal(ids.length, ENTRIES, `each run once: ${ids.length} messages for ${ENTRIES} runs`);
  assert.equal(new Set(ids).size, ENTRIES, 'no id twice');
  assert.deepEqual(tap.received.filter((r) => r.headers[REPUBLISHED_HEADER] === true).map((r) => r.messageId), [], 'none marked as a possible second copy');
  assert.deepEqual(tap.received.filter((r) => 'BCC' in r.headers), [], 'the broker strips BCC from the delivered message');
  const said = tap.lines().find((l) => typeof l.msg === 'string' && l.msg.startsWith('the beat journal says'));
  assert.ok(said, 'the new leader says what the journal told it');
  assert.equal(said.routed, tap.published.length);
  assert.equal(said.unrouted, tap.unpublished.length);
  const keys = beatKeys(config.prefix);
  const fireMs = Math.floor(Date.now() / HOUR) * HOUR;
  const records = await redis.mget(NAMES.map((name) => keys.run(name, fireMs)));
  assert.deepEqual(records.map((raw) => (JSON.parse(raw ?? '{}') as { state?: string }).state), NAMES.map(() => 'sent'), 'every run is recorded sent');
  assert.equal(await redis.zcard(keys.unsent), 0);
});

test('claims of a leader without the journal are sent again, marked, as before', { timeout: 60_000 }, async () => {
  const config = await testConfig('beat-journal-none');
  const redis = new Redis(config.redisUrl);
  cleanups.push(async () => redis.disconnect(), () => cleanupPrefix(config, ['reports']));
  const { published, unpublished } = await deadLeader(config, redis, false);
  const tap = await QueueTap.open(config, 'reports');
  cleanups.push(() => tap.close());
  await takeOver(config);
  const expected = published.length * 2 + unpublished.length;
  await eventually('every run sent again', () => tap.received.length >= expected, 20_000);
  await sleep(1_000);
  assert.equal(tap.received.length, expected, 'the published ones twice (it cannot tell), the others once');
  const marked = tap.received.filter((r) => r.headers[REPUBLISHED_HEADER] === true).map((r) => r.messageId);
  assert.equal(marked.length, ENTRIES, 'every run sent again is marked as a possible second copy');
});
