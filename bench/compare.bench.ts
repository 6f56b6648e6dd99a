// Nightshift next to BullMQ on this machine, in the same run: no-op tasks, one worker at concurrency 2.
//   drain: enqueue N, then start the worker; rate from its first finished task to its last.
//   flow:  start the worker, then send N (200 in flight) while it runs them.
// Systems take turns inside every round, so a noisy moment of a shared machine hits all of them;
// each figure is the median (min, max) of the counted rounds after one uncounted warm-up round, and
// each ratio is taken round by round. Also: worker start → first task done, hard kill → next task
// started (next to a bare thread respawn), and confirmed single sends (next to raw amqplib).
// Sizes: BENCH_COMPARE_TASKS, BENCH_COMPARE_ROUNDS, BENCH_COMPARE_KILLS, BENCH_COMPARE_KILL_GAP_MS, BENCH_COMPARE_SENDS.
import { cpus, loadavg, totalmem } from 'node:os';
import { requireServices } from '@nightshift/test-helpers';
import { amqpFloor } from './compare/amqp-floor.ts';
import { bullDrain, bullFlow } from './compare/bullmq.ts';
import { Figure, percentile, ratio } from './compare/figures.ts';
import { bareRespawn, killToNextStart } from './compare/hard-kill.ts';
import { nightshiftDrain, nightshiftFlow, nightshiftSendRate, type RoundResult } from './compare/nightshift.ts';
import { rawSendRate } from './compare/send-rate.ts';

const TASKS = Number(process.env.BENCH_COMPARE_TASKS ?? 2_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_COMPARE_ROUNDS ?? 5));
const KILLS = Number(process.env.BENCH_COMPARE_KILLS ?? 10);
/** Between kills: long enough for the new spare to load the app, as when a kill happens now and then. */
const KILL_GAP_MS = Number(process.env.BENCH_COMPARE_KILL_GAP_MS ?? 2_000);
const SENDS = Number(process.env.BENCH_COMPARE_SENDS ?? 2_000);

const { amqpUrl, redisUrl } = await requireServices('rabbitmq', 'redis');
const servers = { amqpUrl, redisUrl };

interface System {
  readonly name: string;
  readonly drain: () => Promise<RoundResult>;
  readonly flow: () => Promise<RoundResult>;
}
const systems: System[] = [
  { name: 'Nightshift, thread sandboxes', drain: () => nightshiftDrain(servers, 'threads', TASKS), flow: () => nightshiftFlow(servers, 'threads', TASKS) },
  { name: 'BullMQ 6.7.0, worker-thread sandbox', drain: () => bullDrain(redisUrl, 'threads', TASKS), flow: () => bullFlow(redisUrl, 'threads', TASKS) },
  { name: 'Nightshift, inline pool', drain: () => nightshiftDrain(servers, 'inline', TASKS), flow: () => nightshiftFlow(servers, 'inline', TASKS) },
  { name: 'BullMQ 6.7.0, in-process processor', drain: () => bullDrain(redisUrl, 'process', TASKS), flow: () => bullFlow(redisUrl, 'process', TASKS) },
];
const drains = new Map(systems.map((s) => [s.name, new Figure(`${s.name}, drain`, 'tasks/s')]));
const flows = new Map(systems.map((s) => [s.name, new Figure(`${s.name}, flow`, 'tasks/s')]));
const startups = new Map(systems.map((s) => [s.name, new Figure(`${s.name}, start → first done`, 'ms')]));
const floor = new Figure('raw amqplib, quorum queue, publish + consume (prefetch 50)', 'msg/s');
const sends = new Figure('Nightshift client.send, 200 in flight, each confirmed', 'sends/s');
const rawSends = new Figure('raw amqplib confirmed publish, 200 in flight', 'msg/s');

const began = performance.now();
for (let round = 0; round <= ROUNDS; round++) {
  const counted = round > 0; // round 0 warms up: JIT, thread start-up, the broker's first quorum queues
  const record = (figure: Figure | undefined, value: number | undefined) => {
    if (counted && figure && value !== undefined) figure.add(value);
  };
  record(floor, await amqpFloor(amqpUrl, TASKS));
  for (const system of systems) {
    const drained = await system.drain();
    record(drains.get(system.name), drained.rate);
    record(startups.get(system.name), drained.startupMs);
  }
  for (const system of systems) record(flows.get(system.name), (await system.flow()).rate);
  record(rawSends, await rawSendRate(amqpUrl, SENDS));
  record(sends, await nightshiftSendRate(servers, SENDS));
  process.stderr.write(`round ${round}${counted ? '' : ' (warm-up)'} done at ${((performance.now() - began) / 1000).toFixed(0)} s\n`);
}
const respawns = await bareRespawn(KILLS);
const kills = await killToNextStart(amqpUrl, KILLS, KILL_GAP_MS);

const named = (map: Map<string, Figure>, name: string) => map.get(name) as Figure;
const [threads, bullThreads, inline, bullProcess] = systems.map((s) => s.name) as [string, string, string, string];
const [load1] = loadavg();
console.log(`machine     ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average at the end ${load1?.toFixed(1)}`);
console.log(`sizes       ${TASKS} tasks per shape, ${ROUNDS} counted rounds after 1 warm-up; ${KILLS} kills ${KILL_GAP_MS} ms apart; ${SENDS} sends`);
console.log('\nfigure                                                       median   unit     range');
console.log(floor.line());
for (const map of [drains, flows]) for (const figure of map.values()) console.log(figure.line());
for (const figure of startups.values()) console.log(figure.line(1));
console.log(rawSends.line());
console.log(sends.line());
const killFigure = new Figure('hard kill → next task started (concurrency 1), p50', 'ms');
kills.forEach((v) => killFigure.add(v));
const respawnFigure = new Figure('bare worker_threads terminate → respawned, p50', 'ms');
respawns.forEach((v) => respawnFigure.add(v));
console.log(killFigure.line(2), ` p99 ${percentile(kills, 0.99).toFixed(2)}`);
console.log(respawnFigure.line(2), ` p99 ${percentile(respawns, 0.99).toFixed(2)}`);

console.log('\nratio (round by round)                                       median            range');
const goals: Array<[Figure, string]> = [
  [ratio('drain: Nightshift threads / BullMQ worker threads', named(drains, threads), named(drains, bullThreads)), 'goal ≥ 1.0, stretch 1.2'],
  [ratio('drain: Nightshift inline / BullMQ in-process', named(drains, inline), named(drains, bullProcess)), 'goal ≥ 1.0'],
  [ratio('flow: Nightshift threads / BullMQ worker threads', named(flows, threads), named(flows, bullThreads)), ''],
  [ratio('flow: Nightshift inline / BullMQ in-process', named(flows, inline), named(flows, bullProcess)), ''],
  [ratio('drain: Nightshift threads / raw amqplib floor', named(drains, threads), floor), ''],
  [ratio('client.send / raw amqplib confirmed publish', sends, rawSends), 'goal ≥ 0.7'],
];
for (const [figure, goal] of goals) console.log(`${figure.line(2)}  ${goal}`);
console.log(`goals       start → first done (threads) ${named(startups, threads).median.toFixed(0)} ms (goal ≤ 100); kill → next started p50 ${killFigure.median.toFixed(2)} ms (goal < 5)`);
process.exit(0);
