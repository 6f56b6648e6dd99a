import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { randomPrefix, requireServices } from '@nightshift/test-helpers';
import { Lease, RunLedger } from '@nightshift/beat';
import { beatKeys } from '@nightshift/beat-state';
import { sleep } from './support.ts';

let redis: Redis;
const prefixes: string[] = [];

before(async () => {
  const { redisUrl } = await requireServices('redis');
  redis = new Redis(redisUrl);
});
after(async () => {
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  redis.disconnect();
});

function keys() {
  const prefix = randomPrefix('lease');
  prefixes.push(prefix);
  return beatKeys(prefix);
}

test('one replica takes the lease, the others wait; renewal keeps it', async () => {
  const k = keys();
  const a = new Lease(redis, k, 1_000, 'a');
  const b = new Lease(redis, k, 1_000, 'b');
  assert.equal(await a.refresh(), true);
  assert.equal(await b.refresh(), false);
  assert.equal(a.holds(), true);
  assert.equal(b.holds(), false);
  assert.equal(await redis.get(k.lease), a.token);
  await sleep(600);
  assert.equal(await a.refresh(), true, 'renewed');
  await sleep(600);
  assert.equal(await b.refresh(), false, 'still held: renewed 600 ms ago with a 1 s TTL');
});

test('a lease counts as held only until the TTL (less drift) after the request that took it was sent', async () => {
  const k = keys();
  let clock = 1_000_000;
  const lease = new Lease(redis, k, 5_000, 'a', () => clock);
  assert.equal(await lease.refresh(), true);
  assert.equal(lease.validUntil, 1_000_000 + 5_000 - 52);
  clock += 4_947;
  assert.equal(lease.holds(), true);
  clock += 1;
  assert.equal(lease.holds(), false, 'stops before Redis could expire the key');
});

test('a crashed leader\'s lease expires and another replica takes it; the old one then knows it lost it', async () => {
  const k = keys();
  const a = new Lease(redis, k, 400, 'a');
  const b = new Lease(redis, k, 400, 'b');
  assert.equal(await a.refresh(), true);
  await sleep(450);
  assert.equal(await b.refresh(), true);
  assert.equal(await a.refresh(), false, 'renewing a lease someone else holds fails');
  assert.equal(a.holds(), false);
});

test('release hands the lease over at once and announces it; only the holder can release it', async () => {
  const k = keys();
  const listener = redis.duplicate();
  const announced: string[] = [];
  listener.on('message', (_channel: string, token: string) => announced.push(token));
  await listener.subscribe(k.leaseReleased);
  try {
    const a = new Lease(redis, k, 10_000, 'a');
    const b = new Lease(redis, k, 10_000, 'b');
    await a.refresh();
    await b.release();
    assert.equal(await redis.get(k.lease), a.token, 'b could not release a\'s lease');
    await a.release();
    assert.equal(await b.refresh(), true);
    await redis.ping(); // the announcement reached the listener before this answer reaches us
    await sleep(50);
    assert.deepEqual(announced, [a.token], 'the holder\'s release is announced, the refused one is not');
  } finally {
    listener.disconnect();
  }
});

test('a run is claimed once, only by the lease holder, and the watermark never moves back', async () => {
  const k = keys();
  const a = new Lease(redis, k, 10_000, 'a');
  const b = new Lease(redis, k, 10_000, 'b');
  await a.refresh();
  const ledgerA = new RunLedger(redis, k, a, 60_000, 'a');
  const ledgerB = new RunLedger(redis, k, b, 60_000, 'b');
  const t = Date.parse('2025-06-01T12:00:00Z');

  assert.deepEqual(await ledgerA.start('tick', t), { state: 'new', lastMs: t });
  assert.deepEqual(await ledgerA.start('tick', t + 5_000), { state: 'kept', lastMs: t }, 'an entry seen before keeps its watermark');
  assert.equal(await ledgerB.start('tick', t), 'not-leader');
  assert.equal(await ledgerB.claim('tick', t + 1_000), 'not-leader', 'a replica without the lease claims nothing');
  assert.equal(await ledgerA.claim('tick', t + 1_000), 'claimed');
  assert.equal(await ledgerA.claim('tick', t + 1_000), 'handled', 'never twice');
  assert.equal(await ledgerA.claim('tick', t), 'handled', 'nothing at or before the watermark');
  assert.equal(await redis.hget(k.lastRun, 'tick'), String(t + 1_000));
  assert.match(await redis.get(k.run('tick', t + 1_000)) ?? '', /"by":"a"/);
  assert.ok((await redis.pttl(k.run('tick', t + 1_000))) > 50_000, 'the claim expires');

  assert.equal(await ledgerA.advance('tick', t + 10_000), 'ok');
  assert.equal(await ledgerA.advance('tick', t + 2_000), 'ok');
  assert.equal(await redis.hget(k.lastRun, 'tick'), String(t + 10_000), 'the watermark only moves forward');
  assert.equal(await ledgerA.claim('tick', t + 5_000), 'handled', 'a run counted missed is not claimed later');

  // Handover: after the lease changes hands, the new leader continues from the watermark.
  await a.release();
  await b.refresh();
  assert.deepEqual(await ledgerB.start('tick', t + 20_000), { state: 'kept', lastMs: t + 10_000 });
  assert.equal(await ledgerA.claim('tick', t + 11_000), 'not-leader', 'a paused old leader that wakes up claims nothing');
  assert.equal(await ledgerB.claim('tick', t + 11_000), 'claimed');
});

test('Redis losing beat\'s state is noticed: the leader continues from the run it can prove, a follower from what it read', async () => {
  const k = keys();
  const lose = () => redis.del(k.lease, k.lastRun, k.lastRunEpoch);
  const t = Date.parse('2025-06-01T12:00:00Z');
  const a = new Lease(redis, k, 10_000, 'a');
  const b = new Lease(redis, k, 10_000, 'b');
  const ledgerA = new RunLedger(redis, k, a, 60_000, 'a');
  const ledgerB = new RunLedger(redis, k, b, 60_000, 'b');
  await a.refresh();
  assert.deepEqual(await ledgerA.start('tick', t), { state: 'new', lastMs: t });
  assert.equal(await ledgerA.claim('tick', t + 1_000), 'claimed');
  await ledgerB.observe();

  // The state goes (a restart without persistence); the leader that wrote it takes the lease again.
  await lose();
  a.drop();
  assert.equal(await a.refresh(), true);
  assert.deepEqual(await ledgerA.start('tick', t + 5_000), { state: 'lost', lastMs: t + 1_000, proven: t + 1_000 });
  assert.equal(await redis.hget(k.lastRun, 'tick'), String(t + 1_000), 'the proven watermark is written back');
  assert.equal(await ledgerA.claim('tick', t + 2_000), 'claimed');
  assert.deepEqual(await ledgerA.start('tick', t + 6_000), { state: 'kept', lastMs: t + 2_000 }, 'noticed once');

  // Lost again, and this time the follower leads: it only read t+2s, so it proves nothing after it.
  await ledgerB.observe();
  await lose();
  assert.equal(await b.refresh(), true);
  assert.deepEqual(await ledgerB.start('tick', t + 9_000), { state: 'lost', lastMs: t + 9_000, unproven: t + 2_000 });
  // A replica that never knew the entry takes it for a new one.
  const c = new RunLedger(redis, k, b, 60_000, 'c');
  assert.deepEqual(await c.start('other', t + 9_000), { state: 'new', lastMs: t + 9_000 });
});
