// Redis comes back without beat's state (flushed, or restarted without persistence) while an every-second entry
// is being dispatched: every slot is either sent once or counted as missed with its reason, never lost silently.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { defineApp, defineTask } from '@nightshift/core';
import { startBeatService } from '@nightshift/beat';
import { Broker, brokerOptions } from '@nightshift/broker';
import { startPrivateRedis } from '@nightshift/test-helpers';
import { beatTestFile, capturingLogger, cleanupPrefix, eventually, QueueTap, testConfig } from './support.ts';

const tick = defineTask({ name: 'clock.tick', queue: 'ticks', run: (_ctx, _label: string) => undefined });
const everySecond = defineApp({
  name: 'beat-state-lost', tasks: [tick],
  schedule: [{ name: 'tick', task: 'clock.tick', schedule: { every: '1s' }, args: ['second'], misfire: 'once' }],
});

const file = beatTestFile('beat-state-lost-test');
const { cleanups } = file;

/** Resolves at the next whole second: beat claims and sends each run then, so that is "during its dispatch". */
async function atNextSecond(): Promise<void> {
  await sleep(1_000 - (Date.now() % 1_000));
}

test('Redis restarted empty or flushed during dispatch: every one-second slot is sent once or counted missed with its reason', { timeout: 120_000 }, async () => {
  const redis = await startPrivateRedis();
  cleanups.push(() => redis.stop());
  const config = await testConfig('beat-lost', { NIGHTSHIFT_REDIS_URL: redis.url });
  cleanups.push(() => cleanupPrefix(config, ['ticks']));
  const setup = await Broker.connect(brokerOptions(config, 'beat-state-lost-setup'));
  await setup.ensureQueue('ticks');
  await setup.close();
  const tap = await QueueTap.open(config, 'ticks');
  cleanups.push(() => tap.close());
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  admin.on('error', () => {});
  cleanups.push(async () => admin.disconnect());

  const { log, lines } = capturingLogger();
  const service = await startBeatService({ app: everySecond, config, log, meter: file.telemetry.meter, replica: 'r1', leaseTtl: '3s' });
  cleanups.push(() => service.stop());
  await eventually('three runs', () => tap.received.length >= 3, 15_000);

  const faults = [
    { what: 'FLUSHALL', inject: async () => { await admin.flushall(); } },
    { what: 'restart without persistence', inject: () => redis.restartEmpty() },
    // Down for longer than the lease: several runs come due meanwhile, and the misfire policy ('once') decides.
    { what: 'restart after 4 s down', inject: () => redis.restartEmpty(4_000) },
  ];
  for (const fault of faults) {
    await atNextSecond();
    await fault.inject();
    const before = tap.received.length;
    await eventually(`runs to resume after ${fault.what}`, () => tap.received.length >= before + 3, 30_000);
  }
  await service.stop();
  await sleep(500); // the last confirmed runs reach the tap

  const slots = tap.scheduledFor();
  assert.equal(new Set(slots).size, slots.length, 'no slot sent twice');
  const first = Math.min(...slots);
  const last = Math.max(...slots);
  const sent = new Set(slots);
  const unsent: number[] = [];
  for (let at = first; at <= last; at += 1_000) if (!sent.has(at)) unsent.push(at);

  // What beat said it did not send: runs counted by the misfire policy or as lost with Redis's state (counts),
  // and single runs it gave up on (each with its time).
  const logged = lines();
  const counted = logged.filter((line) => typeof line.missed === 'object' && line.missed !== null)
    .reduce((sum, line) => sum + Object.values(line.missed as Record<string, number>).reduce((a, b) => a + b, 0), 0)
    + logged.filter((line) => typeof line.missed === 'number').reduce((sum, line) => sum + (line.missed as number), 0);
  const single = logged.filter((line) => line.msg !== undefined && String(line.msg).startsWith('run missed'))
    .map((line) => Date.parse(String(line.scheduledFor))).filter((at) => at >= first && at <= last);
  for (const at of single) assert.ok(!sent.has(at), `${new Date(at).toISOString()} was counted missed, and sent`);
  const stateLost = logged.filter((line) => line.reason === 'state_lost');
  console.log(`slots ${unsent.length + slots.length}: sent ${slots.length}, unsent ${unsent.length}; counted missed ${counted + single.length}; state_lost lines ${stateLost.length}`);
  assert.equal(counted + single.length, unsent.length, `every unsent slot is counted missed: unsent ${unsent.map((at) => new Date(at).toISOString()).join(', ')}\n${JSON.stringify(logged.filter((l) => l.level !== 30 || /miss|Redis/.test(String(l.msg))), null, 1)}`);
  assert.equal(logged.filter((line) => /Redis came back without beat's state/.test(String(line.msg))).length, faults.length, 'each loss is noticed and said once');
  assert.equal(logged.filter((line) => /entry not seen before/.test(String(line.msg))).length, 1, 'after a loss the entry is not taken for a new one');
  if (process.env.DEBUG_BEAT === '1') for (const line of logged) console.log(line.time, line.msg, line.missed ?? '', line.scheduledFor ?? '');
  const body = await (await fetch(file.telemetry.metricsUrl)).text();
  const lostMetric = body.split('\n').find((line) => line.startsWith('nightshift_beat_runs_missed_total{') && line.includes('reason="state_lost"'));
  if (unsent.length > 0 && single.length < unsent.length) assert.ok(lostMetric, `missed{reason="state_lost"} is exported:\n${body}`);
});
