import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { beatKeys, leaseToken } from '@nightshift/beat-state';
import { eventually, installation, type Installation } from './support.ts';

let site: Installation;

before(async () => {
  site = await installation({ NIGHTSHIFT_HEALTH_BACKLOG: '5', NIGHTSHIFT_HEALTH_DEAD_LETTERS: '0' });
});
after(async () => {
  await site?.close();
});

interface Health { status: string; reason?: string; reasons?: string[]; online?: number; workers?: { name: string }[] }

test('health probes are open; /health/live and /health/ready answer', async () => {
  const live = await site.api.server.inject({ method: 'GET', url: '/health/live' });
  assert.equal(live.statusCode, 200);
  const ready = await site.api.server.inject({ method: 'GET', url: '/health/ready' });
  assert.equal(ready.statusCode, 200);
  const { brokerNode, ...rest } = ready.json() as { brokerNode?: string };
  assert.deepEqual(rest, { status: 'ok', broker: 'up', database: 'up' });
  assert.match(brokerNode ?? '', /^[\w.-]+:\d+$/, 'the RabbitMQ node in use, as host:port (no credentials)');
});

test('/health/workers is 503 critical with no worker, 200 with its name once one is up', async () => {
  const none = await site.api.server.inject({ method: 'GET', url: '/health/workers' });
  assert.equal(none.statusCode, 503);
  const body = none.json() as Health;
  assert.equal(body.status, 'critical');
  assert.match(body.reason ?? '', /no worker/);
  const background = await site.api.server.inject({ method: 'GET', url: '/health/background' });
  assert.equal(background.statusCode, 503, 'no worker is critical for background work too');

  const worker = await site.worker();
  const up = await eventually('a worker to be seen', async () => {
    const response = await site.api.server.inject({ method: 'GET', url: '/health/workers' });
    return response.statusCode === 200 ? response.json() as Health : undefined;
  });
  assert.equal(up.status, 'healthy');
  assert.deepEqual(up.workers?.map((w) => w.name), [worker.worker.options.name]);
});

test('/health/background is degraded, with the reason, when a queue backlog passes the threshold', async () => {
  await eventually('a worker', async () => ((await site.api.server.inject({ method: 'GET', url: '/health/workers' })).statusCode === 200 ? true : undefined));
  for (let i = 0; i < 8; i += 1) assert.equal((await site.request('POST', '/api/tasks', { task: 'report' })).status, 202);
  const degraded = await eventually('the backlog to be seen', async () => {
    const response = await site.api.server.inject({ method: 'GET', url: '/health/background' });
    const body = response.json() as Health;
    return body.reasons?.some((r) => /queue reports has 8 messages waiting \(threshold 5\)/.test(r)) ? { code: response.statusCode, body } : undefined;
  });
  assert.equal(degraded.body.status, 'degraded', JSON.stringify(degraded.body.reasons));
  assert.equal(degraded.code, 200, 'degraded still answers 200');
});

interface BeatHealth extends Health { beat: { leader: string | null; redisUp: boolean } }

test('the beat leader is the replica holding the lease in Redis; with nobody holding it, background is degraded and says so', async () => {
  const redis = new Redis(site.env.NIGHTSHIFT_REDIS_URL ?? '');
  const key = beatKeys(site.env.NIGHTSHIFT_PREFIX ?? '').lease;
  try {
    await redis.set(key, leaseToken('beat-a@host-1'), 'PX', 60_000);
    const led = await eventually('the lease holder to be read', async () => {
      const body = (await site.api.server.inject({ method: 'GET', url: '/health/background' })).json() as BeatHealth;
      return body.beat.leader === 'beat-a@host-1' ? body : undefined;
    });
    assert.equal(led.beat.redisUp, true);
    assert.ok(!led.reasons?.some((r) => /leader lease/.test(r)), JSON.stringify(led.reasons));
    const schedules = (await site.request('GET', '/api/schedules')).json as { leader: string; lease: { holder: string; expiresInMs: number } };
    assert.equal(schedules.leader, 'beat-a@host-1');
    assert.ok(schedules.lease.expiresInMs > 0 && schedules.lease.expiresInMs <= 60_000, `expires in ${schedules.lease.expiresInMs}`);

    // beat stopped everywhere: its lease is released (or expires), and nothing scheduled is sent any more.
    await redis.del(key);
    const leaderless = await eventually('the missing leader to be reported', async () => {
      const body = (await site.api.server.inject({ method: 'GET', url: '/health/background' })).json() as BeatHealth;
      return body.reasons?.some((r) => /beat: no replica holds the leader lease/.test(r)) ? body : undefined;
    });
    assert.equal(leaderless.beat.leader, null);
    assert.notEqual(leaderless.status, 'healthy');
  } finally {
    await redis.del(key);
    redis.disconnect();
  }
});

test('a probe is answered from memory: 500 probes put nothing on the control exchange and all see the same poll', async () => {
  await eventually('a worker', async () => ((await site.api.server.inject({ method: 'GET', url: '/health/workers' })).statusCode === 200 ? true : undefined));
  // The background poller pings at most once per poll; with it stopped, whatever reaches the workers came from a probe.
  await site.api.room.poller.stop();
  const broker = site.api.room.broker;
  const spy = await broker.withChannel(async (channel) => {
    const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
    await channel.bindQueue(queue, broker.names.control, '');
    return queue;
  });
  const probes = await Promise.all(Array.from({ length: 500 }, (_, i) => site.api.server.inject({ method: 'GET', url: i % 2 === 0 ? '/health/background' : '/health/workers' })));
  assert.ok(probes.every((p) => p.statusCode === 200 || p.statusCode === 503), 'every probe answered');
  const checkedAt = new Set(probes.filter((_, i) => i % 2 === 0).map((p) => (p.json() as { checkedAt: string }).checkedAt));
  assert.equal(checkedAt.size, 1, 'answered from one snapshot, not a poll per probe');
  const broadcasts = await broker.withChannel(async (channel) => (await channel.checkQueue(spy)).messageCount);
  assert.equal(broadcasts, 0, 'no probe sent a control message to the workers');
});
