// End-to-end throughput of no-op tasks through Nightshift (confirmed persistent publish, thread sandboxes at
// concurrency 2, manual ack after the outcome, lifecycle events on, completion records in Redis) next to the floor
// measured in the same run on the same broker: raw amqplib publishing with confirms into a quorum queue and
// consuming with manual ack.
import { fileURLToPath } from 'node:url';
import { connect } from 'amqplib';
import { loadConfig, signals } from '@nightshift/core';
import { Broker, brokerOptions, createClient } from '@nightshift/broker';
import { randomPrefix, removeRedisKeys, requireServices } from '@nightshift/test-helpers';
import { startWorker } from '@nightshift/worker';
import { noop } from './fixtures/noop-app.ts';
import { metrics } from '@nightshift/telemetry';

const TASKS = Number(process.env.BENCH_TASKS ?? 5_000);
/** `threads` (the goal's setting) or `inline` (BENCH_POOL=inline, to see what the thread hop costs). */
const POOL = (process.env.BENCH_POOL === 'inline' ? 'inline' : 'threads') as 'threads' | 'inline';
/** `on` (as users run it) or `off` (BENCH_COMPLETION_RECORDS=off, to see what the Redis check and write cost). */
const RECORDS = process.env.BENCH_COMPLETION_RECORDS === 'off' ? 'off' : 'on';
const WINDOW = 200;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

async function rawFloor(amqpUrl: string): Promise<number> {
  const connection = await connect(amqpUrl, { noDelay: true });
  const publisher = await connection.createConfirmChannel();
  const consumer = await connection.createChannel();
  const queue = `${randomPrefix('floor')}.q`;
  await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  await consumer.prefetch(32); // the same prefetch the worker uses at concurrency 2 (NIGHTSHIFT_WORKER_PREFETCH: 16 a sandbox)
  const started = performance.now();
  let acked = 0;
  const consumed = new Promise<void>((resolve) => {
    void consumer.consume(queue, (message) => {
      if (!message) return;
      consumer.ack(message);
      if (++acked === TASKS) resolve();
    });
  });
  for (let sent = 0; sent < TASKS; sent += WINDOW) {
    const batch = Math.min(WINDOW, TASKS - sent);
    for (let i = 0; i < batch; i++) publisher.publish('', queue, Buffer.from(JSON.stringify({ i })), { persistent: true });
    await publisher.waitForConfirms();
  }
  await consumed;
  const seconds = (performance.now() - started) / 1000;
  await publisher.deleteQueue(queue);
  await connection.close();
  return TASKS / seconds;
}

async function nightshift(amqpUrl: string, redisUrl: string): Promise<number> {
  const env = { NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_COMPLETION_RECORDS: RECORDS, NIGHTSHIFT_PREFIX: randomPrefix('bench') };
  const config = loadConfig(env);
  const appPath = fileURLToPath(new URL('./fixtures/noop-app.ts', import.meta.url));
  const worker = await startWorker({ appPath, concurrency: 2, pool: POOL }, env, quiet, metrics.getMeter('bench'));
  const client = await createClient(config, { name: 'bench' });
  let succeeded = 0;
  const done = new Promise<void>((resolve) => signals.on('taskSuccess', () => { if (++succeeded === TASKS) resolve(); }));
  const started = performance.now();
  for (let sent = 0; sent < TASKS; sent += WINDOW) {
    await Promise.all(Array.from({ length: Math.min(WINDOW, TASKS - sent) }, () => client.send(noop, [])));
  }
  await done;
  const seconds = (performance.now() - started) / 1000;
  await worker.stop();
  const cleaner = await Broker.connect(brokerOptions(config, 'bench-cleanup'));
  await cleaner.ensureQueue('default');
  await cleaner.deleteTopology();
  await cleaner.close();
  await client.close();
  await removeRedisKeys(redisUrl, config.prefix);
  return TASKS / seconds;
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] as number;
const { amqpUrl, redisUrl } = await requireServices('rabbitmq', 'redis');
// Alternate the two, so a noisy moment of the machine hits both; report medians.
const floors: number[] = [];
const ours: number[] = [];
// One uncounted round first: JIT, thread start-up and the broker's first quorum queues.
await rawFloor(amqpUrl);
await nightshift(amqpUrl, redisUrl);
for (let round = 0; round < ROUNDS; round++) {
  floors.push(await rawFloor(amqpUrl));
  ours.push(await nightshift(amqpUrl, redisUrl));
}
const floor = median(floors);
const result = median(ours);
const list = (values: number[]) => values.map((v) => v.toFixed(0)).join(', ');
console.log(`tasks per round            ${TASKS} × ${ROUNDS} rounds`);
console.log(`floor (raw amqplib)        ${floor.toFixed(0)} msg/s   median of ${list(floors)} (confirmed persistent publish + manual-ack consume, quorum queue)`);
console.log(`nightshift (${POOL}, c=2)${POOL === 'inline' ? ' ' : ''}  ${result.toFixed(0)} tasks/s median of ${list(ours)} (confirmed send, sandboxed run, ack, events on, completion records ${RECORDS})`);
console.log(`ratio                      ${(result / floor).toFixed(2)}   (goal ≥ 0.50)`);
process.exit(0);
