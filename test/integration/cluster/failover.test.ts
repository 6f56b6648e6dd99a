// The cluster suite (fault phase: npm run test:fault): three RabbitMQ nodes on loopback beside the system one
// (test/helpers startRabbitCluster), no load balancer: the clients get the three URLs. A node is killed with
// kill -9 while a producer sends confirmed tasks and a consumer takes them: no confirmed task may be lost, and
// a client whose node died must be on another node within 2 s.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { loadConfig, type NightshiftConfig } from '@nightshift/core';
import { Broker, brokerOptions, REPUBLISHED_HEADER, type Delivery } from '@nightshift/broker';
import { eventually, rabbitClusterAvailable, randomPrefix, startRabbitCluster, type ClusterNode, type RabbitCluster } from '@nightshift/test-helpers';

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

/** Resolves with the time from the kill to the broker's next (re)connect, and the node it reached. */
function nextConnect(broker: Broker, client: string, killedAt: () => number): Promise<Failover> {
  const from = broker.node;
  return new Promise((resolve) => broker.once('ready', () => resolve({ client, from, to: broker.node, ms: Date.now() - killedAt() })));
}

function urlsStartingAt(cluster: RabbitCluster, first: ClusterNode): string {
  return [first, ...cluster.nodes.filter((node) => node !== first)].map((node) => node.url).join(',');
}

/**
 * Clients on `clientsOn`, the work queue declared through (so led by) `leader`; `victim` is killed after a
 * third of the tasks are confirmed. Returns what was lost and how each client whose node died moved.
 */
async function killUnderLoad(cluster: RabbitCluster, label: string, clientsOn: ClusterNode, leader: ClusterNode, victim: ClusterNode): Promise<{ lost: string[]; failovers: Failover[] }> {
  const prefix = randomPrefix('cluster');
  const settings = (first: ClusterNode): NightshiftConfig => loadConfig({ NIGHTSHIFT_AMQP_URL: urlsStartingAt(cluster, first), NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_PUBLISH_TIMEOUT: '60s' });
  // A fresh queue name per scenario, and a few seconds before the kill: the recipe's hazard (a replica killed
  // right after a declare may never come back).
  const declarer = await Broker.connect(brokerOptions(settings(leader), 'cluster declarer'));
  await declarer.ensureQueue('work');
  await declarer.close();
  const queues = JSON.parse(await cluster.ctl(clientsOn, 'rabbitmqctl', 'list_queues', 'name', 'leader', '--formatter', 'json', '--quiet')) as Array<{ name: string; leader: string }>;
  assert.equal(queues.find((q) => q.name === `${prefix}.q.work`)?.leader, leader.name, `${label}: the work queue is led by ${leader.name}`);

  const config = settings(clientsOn);
  const producer = await Broker.connect(brokerOptions(config, 'cluster producer'));
  const consumer = await Broker.connect(brokerOptions(config, 'cluster consumer'));
  brokers.push(producer, consumer);
  assert.deepEqual([producer.node, consumer.node], [`127.0.0.1:${clientsOn.port}`, `127.0.0.1:${clientsOn.port}`], `${label}: both clients start on the first node of their list`);
  await sleep(5_000);

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
  let failovers: Promise<Failover[]> = Promise.resolve([]);
  let longestConfirmGapMs = 0;
  let lastConfirmAt = Date.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < TASKS) {
      const id = `task-${next++}`;
      await producer.publisher.publish(producer.names.tasks, 'work', Buffer.from(JSON.stringify({ id })), { messageId: id });
      confirmed.add(id);
      const now = Date.now();
      if (kill !== undefined) longestConfirmGapMs = Math.max(longestConfirmGapMs, now - lastConfirmAt);
      lastConfirmAt = now;
      if (confirmed.size === Math.floor(TASKS / 3) && kill === undefined) {
        // Only clients on the victim must move; one on a survivor keeps its connection.
        if (victim === clientsOn) failovers = Promise.all([nextConnect(producer, 'producer', () => killedAt), nextConnect(consumer, 'consumer', () => killedAt)]);
        killedAt = Date.now();
        kill = cluster.kill(victim);
      }
    }
  };
  const publishStarted = Date.now();
  await Promise.all(Array.from({ length: LANES }, lane));
  const publishMs = Date.now() - publishStarted;
  await kill;
  const moved = await failovers;

  const missing = () => [...confirmed].filter((id) => !consumed.has(id));
  await eventually('every confirmed task to be consumed', () => missing().length === 0, 60_000, 200).catch(() => undefined);
  const lost = missing();
  const duplicates = [...consumed.values()].filter((count) => count > 1).length;
  console.log([
    `${label}: killed ${victim.name} (clients on ${clientsOn.name}, queue led by ${leader.name}) after ${Math.floor(TASKS / 3)} confirms`,
    ...moved.map((f) => `  ${f.client}: ${f.from} -> ${f.to} in ${f.ms} ms`),
    `  confirmed ${confirmed.size}/${TASKS} in ${(publishMs / 1000).toFixed(1)} s (longest pause between confirms after the kill ${longestConfirmGapMs} ms); ` +
      `consumed ${consumed.size} distinct; lost ${lost.length}; delivered twice ${duplicates} (${republishedCopies} copies marked republished)`,
  ].join('\n'));
  assert.equal(confirmed.size, TASKS, `${label}: every publish confirmed`);
  for (const broker of [producer, consumer]) await broker.close();
  return { lost, failovers: moved };
}

test('kill -9 of the node leading the queue (the clients are elsewhere), then of the node the clients use: nothing confirmed is lost, clients fail over within 2 s', { timeout: 300_000 }, async (t) => {
  if (cluster === undefined) {
    t.skip('the Debian RabbitMQ package (/usr/lib/rabbitmq/bin) is not installed');
    return;
  }
  const [n1, n2] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];

  const leaderKilled = await killUnderLoad(cluster, 'queue leader', n1, n2, n2);
  assert.deepEqual(leaderKilled.lost.slice(0, 10), [], `${leaderKilled.lost.length} confirmed tasks lost`);
  const restartedAt = Date.now();
  await cluster.start(n2);
  console.log(`  ${n2.name} restarted and running again in ${((Date.now() - restartedAt) / 1000).toFixed(1)} s`);

  const clientsKilled = await killUnderLoad(cluster, 'clients\' node', n1, n1, n1);
  assert.deepEqual(clientsKilled.lost.slice(0, 10), [], `${clientsKilled.lost.length} confirmed tasks lost`);
  assert.equal(clientsKilled.failovers.length, 2);
  for (const failover of clientsKilled.failovers) {
    assert.notEqual(failover.to, failover.from, `${failover.client} moved to another node`);
    assert.ok(failover.ms < FAILOVER_LIMIT_MS, `${failover.client} failed over in ${failover.ms} ms (limit ${FAILOVER_LIMIT_MS} ms)`);
  }
});
