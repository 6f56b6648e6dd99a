// Dispatch lag of beat (publish start minus scheduled time) for a one-second entry, next to the lag of a bare
// croner callback on the same seconds, measured side by side in this process on the real Redis and RabbitMQ.
// Goal (issue #4): beat's p99 within 5 ms of the bare timer's. BENCH_SECONDS shortens the run (default 60).
import { Writable } from 'node:stream';
import { Cron } from 'croner';
import { Redis } from 'ioredis';
import { connect } from 'amqplib';
import { decode, defineApp, defineTask, loadConfig } from '@nightshift/core';
import { Broker, brokerOptions } from '@nightshift/broker';
import { createLogger, metrics } from '@nightshift/telemetry';
import { randomPrefix, requireServices } from '@nightshift/test-helpers';
import { startBeatService } from '@nightshift/beat';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
const GOAL_P99_MS = 5;

const tick = defineTask({ name: 'bench.tick', queue: 'ticks', run: () => undefined });
const app = defineApp({ name: 'beat-precision', tasks: [tick], schedule: [{ name: 'tick', task: 'bench.tick', schedule: { every: '1s' } }] });

const { amqpUrl, redisUrl } = await requireServices('rabbitmq', 'redis');
const config = loadConfig({ NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_PREFIX: randomPrefix('bench-beat'), NIGHTSHIFT_LOG_LEVEL: 'info' });

// Beat's own measure of each run, from its 'dispatched' log lines.
const beatLag = new Map<string, number>();
const destination = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.includes('"msg":"dispatched"')) continue;
      const record = JSON.parse(line) as { scheduledFor: string; lagMs: number };
      beatLag.set(record.scheduledFor, record.lagMs);
    }
    done();
  },
});
const log = createLogger({ service: 'bench-beat', level: 'info', destination });

const croner: number[] = [];
const arrival = new Map<string, number>();
const service = await startBeatService({ app, config, log, meter: metrics.getMeter('bench'), replica: 'bench' });
const connection = await connect(amqpUrl);
const channel = await connection.createChannel();
await channel.consume(`${config.prefix}.q.ticks`, (message) => {
  if (!message) return;
  const decoded = decode(message.content);
  if (decoded.ok && decoded.envelope.origin.type === 'beat') arrival.set(decoded.envelope.origin.scheduledFor, Date.now() - Date.parse(decoded.envelope.origin.scheduledFor));
}, { noAck: true });

// The floor: croner's own timer firing on the same seconds, doing nothing but reading the clock.
const bare = new Cron('* * * * * *', { timezone: 'UTC' }, () => {
  const now = Date.now();
  croner.push(now - Math.floor(now / 1_000) * 1_000);
});

console.log(`beat-precision: a one-second entry for ${SECONDS} s, beat and a bare croner callback side by side`);
const start = Date.now();
await new Promise((resolve) => setTimeout(resolve, SECONDS * 1_000 + 500));
bare.stop();
await service.stop();
await connection.close();
await cleanup();

// The first second of each warms up (JIT, first publish); it is left out of both.
const beatRuns = [...beatLag.entries()].filter(([at]) => Date.parse(at) > start + 1_000).map(([, lag]) => lag);
const arrivals = [...arrival.entries()].filter(([at]) => Date.parse(at) > start + 1_000).map(([, lag]) => lag);
const floor = croner.slice(1);
const beatStats = stats(beatRuns);
const floorStats = stats(floor);
const arrivalStats = stats(arrivals);
const row = (name: string, s: Stats) => `  ${name.padEnd(34)}${fmt(s.p50)}${fmt(s.p99)}${fmt(s.max)}   (n=${s.n})`;
console.log(`  ${''.padEnd(34)}${'p50'.padStart(10)}${'p99'.padStart(10)}${'max'.padStart(10)}`);
console.log(row('bare croner callback (floor)', floorStats));
console.log(row('beat dispatch lag (publish start)', beatStats));
console.log(row('beat arrival at a consumer', arrivalStats));
console.log(`  ${'beat − floor'.padEnd(34)}${fmt(beatStats.p50 - floorStats.p50, true)}${fmt(beatStats.p99 - floorStats.p99, true)}${fmt(beatStats.max - floorStats.max, true)}`);
console.log(`  ${'beat / floor'.padEnd(34)}${ratio(beatStats.p50, floorStats.p50)}${ratio(beatStats.p99, floorStats.p99)}${ratio(beatStats.max, floorStats.max)}`);
const met = beatStats.p99 - floorStats.p99 <= GOAL_P99_MS;
console.log(`  goal: beat's p99 within ${GOAL_P99_MS} ms of the bare timer: ${met ? 'met' : 'NOT met'} (${(beatStats.p99 - floorStats.p99).toFixed(1)} ms)`);
if (beatStats.n < SECONDS - 3) {
  console.error(`beat sent ${beatStats.n} runs in ${SECONDS} s; expected about ${SECONDS - 1}`);
  process.exit(1);
}
process.exit(0);

interface Stats { readonly n: number; readonly p50: number; readonly p99: number; readonly max: number }

function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? Number.NaN;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN };
}

function fmt(ms: number, signed = false): string {
  return `${signed && ms >= 0 ? '+' : ''}${ms.toFixed(1)} ms`.padStart(10);
}

function ratio(a: number, b: number): string {
  return (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a').padStart(10);
}

async function cleanup(): Promise<void> {
  const redis = new Redis(redisUrl);
  const keys = await redis.keys(`${config.prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  const broker = await Broker.connect(brokerOptions(config, 'bench-cleanup'));
  await broker.ensureQueue('ticks');
  await broker.deleteTopology();
  await broker.close();
}
