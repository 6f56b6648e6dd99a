// The cluster suite (fault phase: npm run test:fault): three RabbitMQ nodes on loopback beside the system one
// (test/helpers startRabbitCluster), no load balancer: the clients get the three URLs. The node the clients use,
// which also leads the work queue, is killed with kill -9 while a producer sends confirmed tasks and a consumer
// takes them: no confirmed task may be lost, and each client must be on another node within 2 s.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig, type NightshiftConfig } from '@nightshift/core';
import { Broker, brokerOptions, REPUBLISHED_HEADER, type Delivery } from '@nightshift/broker';
import { eventually, rabbitClusterAvailable, randomPrefix, startRabbitCluster, type RabbitCluster } from '@nightshift/test-helpers';

const TASKS = 3_000;
const LANES = 50;
const FAILOVER_LIMIT_MS = 2_000;

let cluster: RabbitCluster | undefined;
const brokers: Broker[] = [];

// Nodes and their folder go even when the run is interrupted.
const stopCluster = async () => {
  for (const broker of brokers.splice(0)) await broker.close().catch(() => {});
  const running = cluster;
  cluster = undefined;
  await running?.stop();
};
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopCluster().finally(() => process.exit(1)));

before(async () => {
  if (!rabbitClusterAvailable()) return;
  const startedAt = Date.now();
  cluster = await startRabbitCluster();
  console.log(`3-node cluster up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s`);
});
after(stopCluster);

interface Failover {
  readonly client: string;
  readonly from: string | undefined;
  readonly to: string | undefined;
  readonly ms: number;
}

/** Resolves with the time from `sinceMs` to the broker's next (re)connect, and the node it reached. */
function nextConnect(broker: Broker, client: string, from: string | undefined, sinceMs: () => number): Promise<Failover> {
  return new Promise((resolve) => broker.once('ready', () => resolve({ client, from, to: broker.node, ms: Date.now() - sinceMs() })));
}

test('kill -9 of the node the clients use, under confirmed load: nothing confirmed is lost, every client fails over within 2 s', { timeout: 170_000 }, async (t) => {
  if (cluster === undefined) {
    t.skip('the Debian RabbitMQ package (/usr/lib/rabbitmq/bin) is not installed');
    return;
  }
  const began = Date.now();
  const step = (what: string) => console.log(`${((Date.now() - began) / 1000).toFixed(1)} s: ${what}`);
  const config: NightshiftConfig = loadConfig({ NIGHTSHIFT_AMQP_URL: cluster.amqpUrls, NIGHTSHIFT_PREFIX: randomPrefix('cluster'), NIGHTSHIFT_PUBLISH_TIMEOUT: '60s' });
  const producer = await Broker.connect(brokerOptions(config, 'cluster producer'));
  brokers.push(producer);
  const consumer = await Broker.connect(brokerOptions(config, 'cluster consumer'));
  brokers.push(consumer);
  assert.equal(producer.node, consumer.node, 'both start on the first node of the list');
  const used = cluster.nodeAt(Number(producer.node?.split(':')[1]));
  step('clients connected');

  // Declared through the node the clients use, so it also leads the queue; a fresh name per run and a few
  // seconds before the kill (the recipe's hazard: a replica killed right after a declare may not come back).
  await producer.ensureQueue('work');
  const queues = await cluster.ctl(used, 'rabbitmqctl', 'list_queues', 'name', 'leader', '--formatter', 'json', '--quiet');
  const leader = (JSON.parse(queues) as Array<{ name: string; leader: string }>).find((q) => q.name === producer.names.queue('work'))?.leader;
  assert.equal(leader, used.name, 'the work queue is led by the node the clients use');
  step('queue declared');
  await new Promise((resolve) => setTimeout(resolve, 5_000));

  const consumed = new Map<string, number>();
  let republishedCopies = 0;
  await consumer.consume('work', (delivery: Delivery) => {
    const id = String(delivery.message.properties.messageId);
    consumed.set(id, (consumed.get(id) ?? 0) + 1);
    if (delivery.message.properties.headers?.[REPUBLISHED_HEADER] === true) republishedCopies += 1;
    delivery.ack();
  }, { prefetch: 50 });

  const confirmed = new Set<string>();
  let killedAt = 0;
  let kill: Promise<void> | undefined;
  let failovers: Promise<Failover[]> | undefined;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < TASKS) {
      const id = `task-${next++}`;
      await producer.publisher.publish(producer.names.tasks, 'work', Buffer.from(JSON.stringify({ id })), { messageId: id });
      confirmed.add(id);
      if (confirmed.size === Math.floor(TASKS / 3) && kill === undefined) {
        failovers = Promise.all([
          nextConnect(producer, 'producer', producer.node, () => killedAt),
          nextConnect(consumer, 'consumer', consumer.node, () => killedAt),
        ]);
        killedAt = Date.now();
        kill = cluster?.kill(used);
      }
    }
  };
  const publishStarted = Date.now();
  await Promise.all(Array.from({ length: LANES }, lane));
  const publishMs = Date.now() - publishStarted;
  await kill;
  const moved = await (failovers as Promise<Failover[]>);
  step('published');

  const missing = () => [...confirmed].filter((id) => !consumed.has(id));
  await eventually('every confirmed task to be consumed', () => missing().length === 0, 60_000, 200).catch(() => undefined);
  const lost = missing();
  step('consumed');
  const duplicates = [...consumed.values()].filter((count) => count > 1).length;
  console.log([
    `killed ${used.name} (the node both clients used and the queue's leader) after ${Math.floor(TASKS / 3)} confirms`,
    ...moved.map((f) => `${f.client}: ${f.from} -> ${f.to} in ${f.ms} ms`),
    `confirmed ${confirmed.size}/${TASKS} in ${(publishMs / 1000).toFixed(1)} s; consumed ${consumed.size} distinct; lost ${lost.length}; delivered twice ${duplicates} (${republishedCopies} marked republished)`,
  ].join('\n'));

  assert.equal(confirmed.size, TASKS);
  assert.deepEqual(lost.slice(0, 10), [], `${lost.length} confirmed tasks lost`);
  for (const failover of moved) {
    assert.notEqual(failover.to, failover.from, `${failover.client} moved to another node`);
    assert.ok(failover.ms < FAILOVER_LIMIT_MS, `${failover.client} failed over in ${failover.ms} ms (limit ${FAILOVER_LIMIT_MS} ms)`);
  }
});
