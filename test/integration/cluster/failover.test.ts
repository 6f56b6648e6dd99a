// The cluster suite (the fault phase of npm test, alone on the machine: npm run test:cluster): three RabbitMQ nodes on loopback beside the system one
// (test/helpers startRabbitCluster, with deploy/rabbitmq/advanced.config), no load balancer: the clients get the
// three URLs. A node is killed with kill -9 while a producer sends confirmed tasks and a consumer takes them: no
// confirmed task may be lost, and a client whose node died must be on another node within 2 s. Then the same
// with two real workers, beat (an every-second entry) and always-failing tasks going through their retries with
// the alerter storing and paging their dead letters: nothing lost, no attempt run to completion twice, one dead
// letter per failed task (one PostgreSQL row, one page), retries resume within 30 s (RabbitMQ 3.10 may hold them
// in the ladder until the dead node is back: the workers' retry rescue sends them again), each of beat's slots
// run once or counted missed.
// Each worker scenario runs three times (the issue's proof; about 4 minutes on a quiet 2-core VM); CLUSTER_ROUNDS=1
// for a quicker look. CLUSTER_SCENARIOS=c runs only the named scenarios (a, b, c).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect } from 'amqplib';
import { loadConfig, type NightshiftConfig } from '@nightshift/core';
import { Broker, brokerOptions, createClient, REPUBLISHED_HEADER, type Delivery } from '@nightshift/broker';
import { metrics } from '@nightshift/telemetry';
import { eventually, rabbitClusterAvailable, randomPrefix, removeRedisKeys, requireServices, slackWebhook, startRabbitCluster, type ClusterNode, type RabbitCluster } from '@nightshift/test-helpers';
import { startWorker, type StartedWorker } from '@nightshift/worker';
import { startBeatService } from '@nightshift/beat';
import { loadAlerterConfig, startAlerter, type Alerter } from '@nightshift/alerter';
import { quoteIdent } from '@nightshift/store';
import { createLogger } from '@nightshift/telemetry';
import app, { doomed, runs, work, type Run } from './fixtures/cluster-app.ts';

const TASKS = 3_000;
const LANES = 50;
const FAILOVER_LIMIT_MS = 2_000;

let cluster: RabbitCluster | undefined;
const brokers: Broker[] = [];
/** Workers and clients of the scenario under way: stopped at its end, or before the nodes when it fails. */
const stoppers: Array<() => Promise<unknown>> = [];

// Nodes and their folder go even when the run is interrupted.
const stopCluster = async () => {
  for (const stopper of stoppers.splice(0).reverse()) await stopper();
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
  // The next test starts from three running nodes.
  await cluster.start(n1);
});

const APP = fileURLToPath(new URL('./fixtures/cluster-app.ts', import.meta.url));
const ROUNDS = Number(process.env.CLUSTER_ROUNDS ?? 3);
/** CLUSTER_SCENARIOS=c (or ab, …) runs only those worker scenarios, for investigating one. */
const ONLY = process.env.CLUSTER_SCENARIOS;
const WORK_TASKS = 600;
const DOOMED_TASKS = 1_000;
const RETRIES_RESUME_LIMIT_MS = 30_000;

interface Figures {
  readonly label: string;
  lost: number;
  ranTwice: number;
  /** Always-failing tasks sent (0 without them). */
  failing: number;
  deadLetters: number;
  duplicateDeadLetters: number;
  heldCopies: number;
  /** Retries the ladder had not brought back 15 s past their time, sent again by a worker (retry-rescue.ts). */
  rescued: number;
  suppressed: number;
  /** The longest a retry ran late (past its delay) after the kill: a frozen retry ladder shows here. */
  retryGapMs: number | undefined;
  failovers: Failover[];
  /** The alerter's store (with failing tasks): dead-letter rows, rows beyond one per task, and Slack pages. */
  alerter: { rows: number; duplicateRows: number; pages: number } | undefined;
  /** Beat's every-second entry: slots from its first run to its last, run, run twice, not run, counted missed. */
  beat: { slots: number; ran: number; ranTwice: number; unsent: number; countedMissed: number };
  warnings: number;
  errors: number;
  seconds: number;
}

/** The scenarios with always-failing tasks, for the last test. */
const failingScenarios: Figures[] = [];
let matrixRan = false;
const keyOf = (run: Run) => `${run.id}:${run.attempt}`;
const twice = (list: readonly Run[], ids: ReadonlySet<string>) => {
  const counts = new Map<string, number>();
  for (const run of list) if (ids.has(run.id)) counts.set(keyOf(run), (counts.get(keyOf(run)) ?? 0) + 1);
  return [...counts].filter(([, count]) => count > 1).map(([key]) => key);
};

/**
 * A producer, two workers (inline sandboxes, so their runs are counted in this process) and the queues led by
 * `leader`; `victim` is killed under load: while `work` tasks are sent and run, and, with `failing`, while 1,000
 * `doomed` tasks go through their retries.
 */
async function workersUnderKill(cluster: RabbitCluster, label: string, clientsOn: ClusterNode, leader: ClusterNode, victim: ClusterNode, failing: boolean): Promise<Figures> {
  const startedAt = Date.now();
  const { redisUrl, databaseUrl } = await requireServices('redis', 'postgres');
  const prefix = randomPrefix('cluster');
  const env = (first: ClusterNode) => ({
    NIGHTSHIFT_AMQP_URL: urlsStartingAt(cluster, first), NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_PUBLISH_TIMEOUT: '60s',
    // Redis is reachable throughout; the generous timeout keeps this overloaded test process (producer, beat and
    // two workers in one event loop) from taking its own lag for an unreachable Redis (then checks are skipped).
    NIGHTSHIFT_RETRY_LADDER: '1s,2s', NIGHTSHIFT_COMPLETION_LEASE: '5s', NIGHTSHIFT_COMPLETION_TIMEOUT: '3s', NIGHTSHIFT_WORKER_GRACE: '5s', NIGHTSHIFT_HEARTBEAT: '2s',
  });
  const declarer = await Broker.connect(brokerOptions(loadConfig(env(leader)), 'cluster declarer'));
  for (const queue of ['work', 'doomed']) await declarer.ensureQueue(queue);
  // The alerter consumes the dead-letters queue: the test counts the copies RabbitMQ routes to a queue of its own
  // bound to the same fanout exchange (every copy reaches both).
  const deadLetterQueue = `${prefix}.test.dead-letter-copies`;
  await declarer.withChannel(async (channel) => {
    await channel.assertQueue(deadLetterQueue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.bindQueue(deadLetterQueue, declarer.names.dlx, '');
  });
  await declarer.close();
  const led = JSON.parse(await cluster.ctl(clientsOn, 'rabbitmqctl', 'list_queues', 'name', 'leader', '--formatter', 'json', '--quiet')) as Array<{ name: string; leader: string }>;
  for (const queue of [`${prefix}.q.work`, `${prefix}.q.doomed`]) assert.equal(led.find((q) => q.name === queue)?.leader, leader.name, `${label}: ${queue} is led by ${leader.name}`);

  const logs: Array<{ level: string; msg: string; at: number; fields: Record<string, unknown> }> = [];
  const logger = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (fields: unknown, msg?: string) => {
    if (level !== 'debug') logs.push({ level, msg: typeof fields === 'string' ? fields : (msg ?? ''), at: Date.now(), fields: typeof fields === 'object' && fields !== null ? fields as Record<string, unknown> : {} });
  }]));
  const workers: StartedWorker[] = [];
  stoppers.push(async () => {
    await Promise.all(workers.map((w) => w.stop({ force: true }).catch(() => {})));
  });
  for (const name of ['w1', 'w2']) {
    workers.push(await startWorker({ appPath: APP, pool: 'inline', concurrency: 8, name: `${prefix}-${name}`, queues: ['work', 'doomed', 'ticks'] }, env(clientsOn), logger as never, metrics.getMeter('@nightshift/worker')));
  }
  const beatLines: Array<Record<string, unknown>> = [];
  const beatLog = Object.fromEntries(['debug', 'info', 'warn', 'error'].map((level) => [level, (fields: unknown, msg?: string) => {
    beatLines.push({ level, ...(typeof fields === 'object' && fields !== null ? fields : {}), msg: typeof fields === 'string' ? fields : msg });
  }]));
  const beat = await startBeatService({ app, config: loadConfig(env(clientsOn)), log: beatLog as never, meter: metrics.getMeter('@nightshift/beat'), replica: `${prefix}-beat`, leaseTtl: '3s' });
  let beatStopped = false;
  const stopBeat = async () => {
    if (beatStopped) return;
    beatStopped = true;
    await beat.stop().catch(() => {});
  };
  stoppers.push(stopBeat);
  const beatStartedAt = Date.now();
  let alerter: Alerter | undefined;
  const slack = failing ? await slackWebhook() : undefined;
  if (slack !== undefined) {
    const alerterEnv = { ...env(clientsOn), NIGHTSHIFT_DATABASE_URL: databaseUrl, NIGHTSHIFT_DATABASE_SCHEMA: prefix.replaceAll('-', '_'), NIGHTSHIFT_SLACK_WEBHOOK_URL: slack.url };
    alerter = await startAlerter({ config: loadAlerterConfig(alerterEnv), logger: createLogger({ service: 'cluster-alerter', level: 'silent' }), meter: metrics.getMeter('@nightshift/alerter') });
    const started = alerter;
    stoppers.push(async () => {
      await started.store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(alerterEnv.NIGHTSHIFT_DATABASE_SCHEMA)} CASCADE`).catch(() => {});
      await started.stop().catch(() => {});
      await slack.close();
    });
  }
  const client = await createClient(loadConfig(env(clientsOn)), { name: 'cluster producer' });
  stoppers.push(() => client.close().catch(() => {}));
  const producer = client.broker;
  for (const broker of [producer, beat.client.broker, ...workers.map((w) => w.broker), ...(alerter ? [alerter.broker] : [])]) assert.equal(broker.node, `127.0.0.1:${clientsOn.port}`, `${label}: every client starts on the first node of its list`);
  await sleep(5_000); // the recipe's hazard: a replica killed right after a declare may never come back

  const doomedIds = new Set<string>();
  if (failing) {
    let sent = 0;
    await Promise.all(Array.from({ length: LANES }, async () => {
      while (sent < DOOMED_TASKS) {
        sent += 1;
        doomedIds.add(await client.send(doomed, []));
      }
    }));
  }
  const confirmed = new Set<string>();
  let killedAt = 0;
  let kill: Promise<void> | undefined;
  let failovers: Promise<Failover[]> = Promise.resolve([]);
  const killNow = () => {
    if (kill !== undefined) return;
    if (victim === clientsOn) {
      failovers = Promise.all([
        nextConnect(producer, 'producer', () => killedAt), nextConnect(beat.client.broker, 'beat', () => killedAt),
        ...workers.map((w, i) => nextConnect(w.broker, `worker ${i + 1}`, () => killedAt)),
        ...(alerter ? [nextConnect(alerter.broker, 'alerter', () => killedAt)] : []),
      ]);
    }
    killedAt = Date.now();
    kill = cluster.kill(victim);
  };
  // With failing tasks the kill comes once retries are under way (a second attempt has failed); else after a third of the work.
  const retriesUnderWay = failing ? eventually('retries under way', () => runs.failures.some((r) => doomedIds.has(r.id) && r.attempt === 2), 60_000, 20) : undefined;
  void retriesUnderWay?.then(killNow);
  let next = 0;
  await Promise.all(Array.from({ length: LANES }, async () => {
    while (next < WORK_TASKS) {
      next += 1;
      confirmed.add(await client.send(work, [100]));
      if (!failing && confirmed.size === Math.floor(WORK_TASKS / 3)) killNow();
    }
  }));
  await retriesUnderWay;
  killNow();
  await kill;
  const moved = await failovers;

  const ended = () => new Set(runs.ends.filter((r) => confirmed.has(r.id)).map((r) => r.id));
  await eventually('every confirmed task to run', () => ended().size === confirmed.size, 90_000, 200).catch(() => undefined);
  const lost = [...confirmed].filter((id) => !ended().has(id));

  // Dead letters, read from a surviving node once every failing task has failed three times.
  // Copies per task: unmarked ones (a second dead letter of the same death) and ones the publisher sent again
  // after a lost confirm (marked; the dead-letter store keeps one row for both).
  const deadLetters = new Map<string, number>();
  const unmarkedDeadLetters = new Map<string, number>();
  let republished = 0;
  if (failing) {
    const finalFailures = () => new Set(runs.failures.filter((r) => doomedIds.has(r.id) && r.attempt === 3).map((r) => r.id)).size;
    await eventually('every failing task to fail three times', () => finalFailures() === doomedIds.size, 120_000, 200).catch(() => undefined);
    const survivor = cluster.nodes.find((node) => node !== victim) as ClusterNode;
    await eventually('every dead letter', async () => {
      // A fresh connection each round: a queue still electing its leader closes the channel. A round that hangs (a
      // channel that never opens on a node just back: it held one run for 15 minutes) is cut short after 10 s, its
      // socket destroyed, and the next round starts afresh.
      const connection = await connect(survivor.url, { timeout: 5_000 }).catch(() => undefined);
      if (connection === undefined) return undefined;
      connection.on('error', () => {});
      const cutShort = setTimeout(() => (connection as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy(), 10_000);
      try {
        const channel = await connection.createChannel();
        channel.on('error', () => {});
        for (let message = await channel.get(deadLetterQueue, { noAck: true }); message !== false; message = await channel.get(deadLetterQueue, { noAck: true })) {
          const id = String(message.properties.messageId);
          deadLetters.set(id, (deadLetters.get(id) ?? 0) + 1);
          if (message.properties.headers?.[REPUBLISHED_HEADER] === true) republished += 1;
          else unmarkedDeadLetters.set(id, (unmarkedDeadLetters.get(id) ?? 0) + 1);
        }
      } catch {
        return undefined;
      } finally {
        clearTimeout(cutShort);
        await connection.close().catch(() => {});
      }
      return deadLetters.size >= doomedIds.size;
    }, 60_000, 500).catch(() => undefined);
  }
  // The alerter's side: one pending row per failed task in PostgreSQL, and one page for the lot (its window is 10 min).
  let alerterFigures: Figures['alerter'];
  if (alerter !== undefined && slack !== undefined) {
    const table = alerter.store.table('dead_letters');
    const count = async () => Number((await alerter.store.query<{ count: string }>(`SELECT count(*) AS count FROM ${table}`)).rows[0]?.count ?? 0);
    await eventually('every dead letter stored', async () => (await count()) >= doomedIds.size, 60_000, 500).catch(() => undefined);
    await sleep(2_000); // a late duplicate would be stored by now
    const { rows } = await alerter.store.query<{ extra: string }>(`SELECT coalesce(sum(n - 1), 0) AS extra FROM (SELECT count(*) AS n FROM ${table} GROUP BY message_id) per_task`);
    alerterFigures = { rows: await count(), duplicateRows: Number(rows[0]?.extra ?? 0), pages: slack.messages.filter((m) => m.raw.includes('doomed')).length };
  }
  // Whatever is still held or waiting gets its chance to show up as a second run.
  await stopBeat();
  const beatStoppedAt = Date.now();
  await sleep(2_000);
  // Beat's slots: each fire time from its first run to its last either ran once or was counted missed.
  const ticks = runs.ticks.filter((r) => r.scheduledFor >= beatStartedAt && r.scheduledFor <= beatStoppedAt);
  const tickCounts = new Map<number, number>();
  for (const run of ticks) tickCounts.set(run.scheduledFor, (tickCounts.get(run.scheduledFor) ?? 0) + 1);
  const fired = [...tickCounts.keys()];
  const unsent: number[] = [];
  for (let at = Math.min(...fired); at <= Math.max(...fired); at += 1_000) if (!tickCounts.has(at)) unsent.push(at);
  const countedMissed = beatLines.filter((line) => typeof line.missed === 'object' && line.missed !== null)
    .reduce((sum, line) => sum + Object.values(line.missed as Record<string, number>).reduce((a, b) => a + b, 0), 0)
    + beatLines.filter((line) => typeof line.missed === 'number').reduce((sum, line) => sum + (line.missed as number), 0)
    + beatLines.filter((line) => String(line.msg ?? '').startsWith('run missed')).length;

  // Per failing task: how much later than its retry delay (1 s, then 2 s) each next attempt ran, across the kill.
  let retryGapMs: number | undefined;
  if (failing) {
    retryGapMs = 0;
    const byTask = new Map<string, Run[]>();
    for (const run of runs.failures) if (doomedIds.has(run.id)) byTask.set(run.id, [...(byTask.get(run.id) ?? []), run]);
    for (const id of doomedIds) {
      const attempts = byTask.get(id) ?? [];
      // A task whose retries never all ran counts as late by the whole wait since its last attempt.
      const last = attempts.reduce((latest, run) => Math.max(latest, run.at), 0);
      if (attempts.length < 3 && last > 0) retryGapMs = Math.max(retryGapMs, Date.now() - last);
      attempts.sort((x, y) => x.attempt - y.attempt);
      for (let i = 1; i < attempts.length; i++) {
        const [previous, next] = [attempts[i - 1] as Run, attempts[i] as Run];
        if (next.at < killedAt) continue;
        retryGapMs = Math.max(retryGapMs, next.at - previous.at - (previous.attempt === 1 ? 1_000 : 2_000));
      }
    }
  }
  // What a failure needs to be understood: each attempt run twice (when, relative to the kill; R: redelivered) with
  // the worker lines about its task, and the queues when failing tasks did not all reach their dead letter.
  for (const key of [...twice(runs.ends, confirmed), ...twice(runs.failures, doomedIds)].slice(0, 10)) {
    const id = key.slice(0, key.lastIndexOf(':'));
    console.log(`  run twice ${key}: ${[...runs.ends, ...runs.failures].filter((r) => r.id === id).map((r) => `attempt ${r.attempt} at ${r.at - killedAt} ms${r.redelivered ? ' (redelivered)' : ''}`).join(', ')}`);
    for (const line of logs.filter((l) => l.fields.task_id === id)) console.log(`    ${line.at - killedAt} ms ${line.level}: ${line.msg}`);
  }
  if (failing && deadLetters.size < doomedIds.size) {
    console.log(await cluster.ctl(cluster.nodes.find((node) => node !== victim) as ClusterNode, 'rabbitmqctl', 'list_queues', 'name', 'leader', 'messages', 'messages_ready', '--quiet').catch((error: Error) => error.message));
  }
  const figures: Figures = {
    label, lost: lost.length, failing: doomedIds.size,
    ranTwice: twice(runs.ends, confirmed).length + twice(runs.failures, doomedIds).length,
    deadLetters: deadLetters.size, duplicateDeadLetters: [...unmarkedDeadLetters.values()].reduce((sum, count) => sum + count - 1, 0),
    heldCopies: logs.filter((l) => l.msg.includes('arrived while') && l.msg.startsWith('a copy of')).length,
    rescued: logs.filter((l) => l.msg.includes('had not come back from the retry ladder')).reduce((sum, l) => sum + Number(l.fields.rescued ?? 0), 0),
    suppressed: logs.filter((l) => l.msg.startsWith('a duplicate of')).length,
    retryGapMs, failovers: moved, alerter: alerterFigures,
    beat: { slots: fired.length + unsent.length, ran: fired.length, ranTwice: [...tickCounts.values()].filter((count) => count > 1).length, unsent: unsent.length, countedMissed },
    warnings: logs.filter((l) => l.level === 'warn' && !/ failed \(.*\); retrying in /.test(l.msg)).length, errors: logs.filter((l) => l.level === 'error' && !l.msg.includes('failed for good')).length,
    seconds: 0,
  };
  console.log([
    `${label}: killed ${victim.name} (clients on ${clientsOn.name}, queues led by ${leader.name}); two workers, ${confirmed.size} tasks${failing ? ` and ${doomedIds.size} always failing` : ''}`,
    ...moved.map((f) => `  ${f.client}: ${f.from} -> ${f.to} in ${f.ms} ms`),
    `  lost ${figures.lost}; attempts run to completion twice ${figures.ranTwice}; copies held for a run elsewhere ${figures.heldCopies}; duplicates acked without running ${figures.suppressed}`,
    `  beat's every-second entry: ${figures.beat.slots} slots, ${figures.beat.ran} ran (${figures.beat.ranTwice} twice), ${figures.beat.unsent} not run, ${figures.beat.countedMissed} counted missed`,
    ...(failing ? [`  dead letters ${figures.deadLetters}/${doomedIds.size}, unmarked duplicates ${figures.duplicateDeadLetters}, ` +
      `copies in all ${[...deadLetters.values()].reduce((sum, count) => sum + count, 0)} (${republished} marked republished); the latest a retry ran past its delay after the kill ${retryGapMs} ms; ` +
      `retries sent again because the ladder held them ${figures.rescued}`] : []),
    ...(figures.alerter ? [`  alerter: ${figures.alerter.rows} dead-letter rows in PostgreSQL, ${figures.alerter.duplicateRows} beyond one per task; ${figures.alerter.pages} Slack page(s) for them`] : []),
    `  worker log lines: ${figures.warnings} warnings other than retries, ${figures.errors} errors other than dead letters`,
    ...[...logs.filter((l) => (l.level === 'error' && !l.msg.includes('failed for good')) || (l.level === 'warn' && !/ failed \(.*\); retrying in /.test(l.msg)))
      .reduce((counts, l) => counts.set(`${l.level}: ${l.msg}`, (counts.get(`${l.level}: ${l.msg}`) ?? 0) + 1), new Map<string, number>())]
      .map(([line, count]) => `    ${count} × ${line}`),
  ].join('\n'));

  for (const stopper of stoppers.splice(0).reverse()) await stopper();
  await removeRedisKeys(redisUrl, prefix).catch(() => {});
  figures.seconds = (Date.now() - startedAt) / 1000;
  console.log(`  scenario took ${figures.seconds.toFixed(0)} s`);
  return figures;
}

function check(figures: Figures, moved: boolean): void {
  const { label } = figures;
  assert.equal(figures.lost, 0, `${label}: ${figures.lost} confirmed tasks lost`);
  // Always-failing tasks are checked by the last test (their own name in the report); the rest here.
  if (figures.failing > 0) failingScenarios.push(figures);
  else assert.equal(figures.ranTwice, 0, `${label}: ${figures.ranTwice} attempts ran to completion twice`);
  assert.equal(figures.duplicateDeadLetters, 0, `${label}: ${figures.duplicateDeadLetters} unmarked duplicate dead letters`);
  assert.equal(figures.beat.ranTwice, 0, `${label}: ${figures.beat.ranTwice} of beat's slots ran twice`);
  assert.equal(figures.beat.unsent, figures.beat.countedMissed, `${label}: ${figures.beat.unsent} of beat's slots did not run, ${figures.beat.countedMissed} counted missed`);
  assert.ok(figures.beat.ran >= 5, `${label}: beat's entry ran (${figures.beat.ran} slots)`);
  if (!moved) return;
  assert.equal(figures.failovers.length, figures.alerter ? 5 : 4, `${label}: the producer, beat, both workers (and the alerter) moved`);
  for (const failover of figures.failovers) {
    assert.notEqual(failover.to, failover.from, `${label}: ${failover.client} moved to another node`);
    assert.ok(failover.ms < FAILOVER_LIMIT_MS, `${label}: ${failover.client} failed over in ${failover.ms} ms (limit ${FAILOVER_LIMIT_MS} ms)`);
  }
}

test(`two workers and beat under load, ${ROUNDS} round(s): kill -9 the queues' leader, the clients' node, and the clients' node while 1,000 always-failing tasks retry`, { timeout: 900_000 }, async (t) => {
  if (cluster === undefined) {
    t.skip('the Debian RabbitMQ package (/usr/lib/rabbitmq/bin) is not installed');
    return;
  }
  const [n1, n2, n3] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
  matrixRan = ONLY === undefined || ONLY.includes('c');
  const all: Figures[] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    // (a) the leaders' node, clients elsewhere; (b) the clients' node, which leads too; (c) the same with retries.
    const scenarios: Array<[string, ClusterNode, ClusterNode, ClusterNode, boolean]> = [
      [`round ${round} (a) queue leaders' node`, n1, n3, n3, false],
      [`round ${round} (b) clients' node`, n1, n1, n1, false],
      [`round ${round} (c) clients' node during retries`, n2, n2, n2, true],
    ];
    for (const [label, clientsOn, leader, victim, failing] of scenarios.filter(([name]) => ONLY === undefined || ONLY.includes(name.split('(')[1]?.[0] ?? ''))) {
      const figures = await workersUnderKill(cluster, label, clientsOn, leader, victim, failing);
      all.push(figures);
      const restartedAt = Date.now();
      await cluster.start(victim);
      console.log(`  ${victim.name} restarted in ${((Date.now() - restartedAt) / 1000).toFixed(1)} s`);
      check(figures, clientsOn === victim);
    }
  }
  const failovers = all.flatMap((f) => f.failovers.map((m) => m.ms));
  console.log(`matrix: ${all.length} scenarios; lost ${all.reduce((s, f) => s + f.lost, 0)}, run twice ${all.reduce((s, f) => s + f.ranTwice, 0)}, ` +
    `duplicate dead letters ${all.reduce((s, f) => s + f.duplicateDeadLetters, 0)}, held copies ${all.reduce((s, f) => s + f.heldCopies, 0)}; ` +
    `failovers ${Math.min(...failovers)}–${Math.max(...failovers)} ms; longest retry stall ${Math.max(...all.map((f) => f.retryGapMs ?? 0))} ms; ` +
    `${all.reduce((s, f) => s + f.seconds, 0).toFixed(0)} s in scenarios`);
});

// On RabbitMQ 3.10 a retry queue's dead-letter worker restarted by the kill can stay stuck on the dead node until it
// is back (see retry-rescue.ts): the workers send such retries again 15 s past their time, so they resume anyway.
test('always-failing tasks across the kill: no attempt runs to completion twice, every one dead-lettered, retries resume within 30 s', (t) => {
  if (!matrixRan) {
    t.skip('the worker scenarios did not run (no cluster, or scenario c filtered out)');
    return;
  }
  assert.ok(failingScenarios.length > 0, 'the scenario with always-failing tasks ran');
  for (const figures of failingScenarios) {
    const { label } = figures;
    assert.equal(figures.ranTwice, 0, `${label}: ${figures.ranTwice} attempts ran to completion twice`);
    assert.equal(figures.deadLetters, figures.failing, `${label}: ${figures.deadLetters} of ${figures.failing} always-failing tasks dead-lettered`);
    assert.ok(figures.retryGapMs !== undefined && figures.retryGapMs <= RETRIES_RESUME_LIMIT_MS, `${label}: retries resumed ${figures.retryGapMs} ms late (limit ${RETRIES_RESUME_LIMIT_MS} ms)`);
    assert.deepEqual(figures.alerter && { rows: figures.alerter.rows, duplicateRows: figures.alerter.duplicateRows, pages: figures.alerter.pages }, { rows: figures.failing, duplicateRows: 0, pages: 1 },
      `${label}: the alerter kept one dead letter per failed task in PostgreSQL and paged once`);
  }
});
