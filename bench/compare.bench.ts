// Nightshift next to BullMQ on this machine, in the same run: no-op tasks, one worker at concurrency 2.
//   drain: enqueue N, then start the worker; rate from its first finished task to its last.
//   flow:  start the worker, then send N (200 in flight) while it runs them.
// Systems take turns inside every round, so a noisy moment of a shared machine hits all of them;
// each figure is the median (min, max) of the counted rounds after one uncounted warm-up round, and
// each ratio is taken round by round. Also: worker start → first task done, hard kill → next task
// started (next to a bare thread respawn, and to a bare idle thread woken by a message), confirmed single
// sends (next to raw amqplib), the drain with tracing on (100 % sampling, OTLP/HTTP JSON or protobuf to a
// collector in this process) next to tracing off, and a worker's RSS every tenth of 100,000 tasks.
// Sizes: BENCH_COMPARE_TASKS, BENCH_COMPARE_ROUNDS, BENCH_COMPARE_KILLS, BENCH_COMPARE_KILL_GAP_MS, BENCH_COMPARE_SENDS,
// BENCH_COMPARE_TRACING_POOLS (default threads), BENCH_COMPARE_TRACINGS (default json,protobuf; json:64 exports at
// most 64 spans at a time), BENCH_COMPARE_MEMORY_TASKS (default 100000; the first sample is
// at a tenth), BENCH_COMPARE_MEMORY_POOLS (default threads,inline), BENCH_COMPARE_MEMORY_FLAGS (Node flags of the
// memory figure's worker, e.g. --max-semi-space-size=16). BENCH_COMPARE_PARTS picks what runs (default
// systems,kill,tracing,memory).
import { cpus, loadavg, totalmem } from 'node:os';
import { requireServices } from '@nightshift/test-helpers';
import { amqpFloor } from './compare/amqp-floor.ts';
import { bullDrain, bullFlow } from './compare/bullmq.ts';
import { Figure, percentile, ratio } from './compare/figures.ts';
import { bareRespawn, idleThread, killToNextStart } from './compare/hard-kill.ts';
import { workerMemory, type MemorySample } from './compare/memory.ts';
import { nightshiftDrain, nightshiftFlow, nightshiftSendRate, type RoundResult } from './compare/nightshift.ts';
import { startOtlpCollector } from './compare/otlp-collector.ts';
import { rawSendRate } from './compare/send-rate.ts';
import { tracedDrain, type Tracing } from './compare/tracing.ts';
import type { PoolKind } from '@nightshift/worker';

const TASKS = Number(process.env.BENCH_COMPARE_TASKS ?? 2_000);
const ROUNDS = Math.max(1, Number(process.env.BENCH_COMPARE_ROUNDS ?? 5));
const KILLS = Number(process.env.BENCH_COMPARE_KILLS ?? 10);
/** Between kills: long enough for the new spare to load the app, as when a kill happens now and then. */
const KILL_GAP_MS = Number(process.env.BENCH_COMPARE_KILL_GAP_MS ?? 2_000);
const SENDS = Number(process.env.BENCH_COMPARE_SENDS ?? 10_000);
const pools = (value: string) => value.split(',').map((p) => p.trim()).filter((p): p is PoolKind => p === 'threads' || p === 'inline');
const TRACING_POOLS = pools(process.env.BENCH_COMPARE_TRACING_POOLS ?? 'threads');
const MEMORY_TASKS = Number(process.env.BENCH_COMPARE_MEMORY_TASKS ?? 100_000);
const MEMORY_POOLS = pools(process.env.BENCH_COMPARE_MEMORY_POOLS ?? 'threads,inline');
const MEMORY_FLAGS = (process.env.BENCH_COMPARE_MEMORY_FLAGS ?? '').split(' ').filter(Boolean);
const PARTS = new Set((process.env.BENCH_COMPARE_PARTS ?? 'systems,kill,tracing,memory').split(',').map((p) => p.trim()));

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
const progress = (what: string) => process.stderr.write(`${what} done at ${((performance.now() - began) / 1000).toFixed(0)} s\n`);
for (let round = 0; PARTS.has('systems') && round <= ROUNDS; round++) {
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
  progress(`round ${round}${counted ? '' : ' (warm-up)'}`);
}
const respawns = PARTS.has('kill') ? await bareRespawn(KILLS) : [];
// Between kills, a bare idle thread is woken by a message: the least a hand-over to a warm spare costs.
const wakes: number[] = [];
let kills: number[] = [];
if (PARTS.has('kill')) {
  const idle = await idleThread();
  kills = await killToNextStart(amqpUrl, KILLS, KILL_GAP_MS, async () => { wakes.push(await idle.wake()); });
  await idle.close();
}

// Tracing: each round a fresh worker process with tracing off, and one each exporting OTLP/HTTP JSON (the
// default) and protobuf, in turn (the order rotates), so a noisy moment hits all; ratios are taken round by round.
const TRACINGS: readonly Tracing[] = ['off', ...(process.env.BENCH_COMPARE_TRACINGS ?? 'json,protobuf').split(',').map((t) => t.trim()).filter(Boolean)];
const tracingLabel = (tracing: Tracing) => {
  if (tracing === 'off') return 'tracing off';
  const [encoding, batch] = tracing.split(':');
  return `tracing on, OTLP/HTTP ${encoding === 'json' ? 'JSON' : encoding}${batch ? `, batches ≤ ${batch}` : ''}`;
};
interface Traced { readonly rates: Map<Tracing, Figure>; readonly cpu: Map<Tracing, Figure>; readonly processSpans: number[]; readonly sendSpans: number[] }
const traced = new Map<PoolKind, Traced>();
if (PARTS.has('tracing')) {
  const collector = await startOtlpCollector();
  for (const pool of TRACING_POOLS) {
    const figures: Traced = {
      rates: new Map(TRACINGS.map((t) => [t, new Figure(`Nightshift ${pool}, drain, ${tracingLabel(t)}`, 'tasks/s')])),
      cpu: new Map(TRACINGS.map((t) => [t, new Figure(`  main thread's CPU per task, ${tracingLabel(t)}`, 'µs')])),
      processSpans: [], sendSpans: [],
    };
    traced.set(pool, figures);
    for (let round = 0; round <= ROUNDS; round++) {
      for (let turn = 0; turn < TRACINGS.length; turn++) {
        const tracing = TRACINGS[(round + turn) % TRACINGS.length] as Tracing;
        const result = await tracedDrain(servers, pool, TASKS, tracing, collector);
        if (tracing === 'off' && result.spans.size > 0) throw new Error(`tracing off exported spans: ${JSON.stringify([...result.spans])}`);
        if (round === 0) continue;
        figures.rates.get(tracing)?.add(result.rate);
        figures.cpu.get(tracing)?.add(result.cpuUsPerTask);
        if (tracing !== 'off') {
          figures.processSpans.push(result.spans.get('process') ?? 0);
          figures.sendSpans.push(result.spans.get('send') ?? 0);
        }
      }
      progress(`tracing ${pool} round ${round}${round > 0 ? '' : ' (warm-up)'}`);
    }
  }
  await collector.close();
}

const memory = new Map<PoolKind, MemorySample[]>();
if (PARTS.has('memory')) {
  for (const pool of MEMORY_POOLS) {
    memory.set(pool, await workerMemory(servers, pool, MEMORY_TASKS, MEMORY_TASKS / 10, MEMORY_FLAGS));
    progress(`memory ${pool}`);
  }
}

const named = (map: Map<string, Figure>, name: string) => map.get(name) as Figure;
const [threads, bullThreads, inline, bullProcess] = systems.map((s) => s.name) as [string, string, string, string];
const [load1] = loadavg();
console.log(`machine     ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; load average at the end ${load1?.toFixed(1)}`);
console.log(`sizes       ${TASKS} tasks per shape, ${ROUNDS} counted rounds after 1 warm-up; ${KILLS} kills ${KILL_GAP_MS} ms apart; ${SENDS} sends; memory over ${MEMORY_TASKS} tasks`);
console.log('\nfigure                                                       median   unit     range');
if (PARTS.has('systems')) {
  console.log(floor.line());
  for (const map of [drains, flows]) for (const figure of map.values()) console.log(figure.line());
  for (const figure of startups.values()) console.log(figure.line(1));
  console.log(rawSends.line());
  console.log(sends.line());
}
const killFigure = new Figure('hard kill → next task started (concurrency 1), p50', 'ms');
kills.forEach((v) => killFigure.add(v));
const respawnFigure = new Figure('bare worker_threads terminate → respawned, p50', 'ms');
respawns.forEach((v) => respawnFigure.add(v));
if (PARTS.has('kill')) {
  console.log(killFigure.line(2), ` p99 ${percentile(kills, 0.99).toFixed(2)}`);
  console.log(respawnFigure.line(2), ` p99 ${percentile(respawns, 0.99).toFixed(2)}`);
  const wakeFigure = new Figure('bare idle thread, message posted → received, p50', 'ms');
  wakes.forEach((v) => wakeFigure.add(v));
  console.log(wakeFigure.line(2), ` p99 ${percentile(wakes, 0.99).toFixed(2)}`);
}
for (const { rates, cpu } of traced.values()) for (const figure of [...rates.values(), ...cpu.values()]) console.log(figure.line());
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
for (const [pool, samples] of memory) {
  console.log(`worker RSS, ${pool} pool${MEMORY_FLAGS.length > 0 ? ` (${MEMORY_FLAGS.join(' ')})` : ''}, MiB, after a GC of the main thread, by tasks done; (main thread's heap used / reserved / young generation reserved):`);
  console.log(`  ${samples.map((s) => `${s.done / 1000}k ${mib(s.rss)} (${mib(s.heapUsed)} / ${mib(s.heapTotal)} / ${mib(s.newSpace)})`).join(',\n  ')}`);
}

console.log('\nratio (round by round)                                       median            range');
const goals: Array<[Figure, string]> = PARTS.has('systems') ? [
  [ratio('drain: Nightshift threads / BullMQ worker threads', named(drains, threads), named(drains, bullThreads)), 'goal ≥ 1.0, stretch 1.2'],
  [ratio('drain: Nightshift inline / BullMQ in-process', named(drains, inline), named(drains, bullProcess)), 'goal ≥ 1.0'],
  [ratio('flow: Nightshift threads / BullMQ worker threads', named(flows, threads), named(flows, bullThreads)), ''],
  [ratio('flow: Nightshift inline / BullMQ in-process', named(flows, inline), named(flows, bullProcess)), ''],
  [ratio('drain: Nightshift threads / raw amqplib floor', named(drains, threads), floor), ''],
  [ratio('client.send / raw amqplib confirmed publish', sends, rawSends), 'goal ≥ 0.7'],
] : [];
for (const [pool, { rates, cpu }] of traced) {
  const [off, cpuOff] = [rates.get('off') as Figure, cpu.get('off') as Figure];
  for (const tracing of TRACINGS.filter((t) => t !== 'off')) {
    goals.push([ratio(`drain, ${pool}: ${tracing} / tracing off`, rates.get(tracing) as Figure, off), 'goal ≥ 0.9']);
    goals.push([ratio(`main-thread CPU per task, ${pool}: off / ${tracing}`, cpuOff, cpu.get(tracing) as Figure), '']);
  }
}
const memoryGoals = [...memory].map(([pool, samples]) => {
  const [first, last] = [samples[0], samples.at(-1)];
  return first && last ? [`RSS ${pool} ${last.done / 1000}k / ${first.done / 1000}k`, last.rss / first.rss] as const : undefined;
}).filter((goal) => goal !== undefined);
for (const [figure, goal] of goals) console.log(`${figure.line(2)}  ${goal}`);
for (const [label, value] of memoryGoals) console.log(`${label.padEnd(58)} ${value.toFixed(2).padStart(8)} ×                          goal ≤ 1.10`);
const goalLines: string[] = [];
if (PARTS.has('systems')) goalLines.push(`start → first done (threads) ${named(startups, threads).median.toFixed(0)} ms (goal ≤ 100)`);
if (PARTS.has('kill')) goalLines.push(`kill → next started p50 ${killFigure.median.toFixed(2)} ms (goal < 5)`);
for (const [pool, { processSpans, sendSpans }] of traced) {
  goalLines.push(`spans at the collector per tracing-on round (${pool}): process ${Math.min(...processSpans)}–${Math.max(...processSpans)}, send ${Math.min(...sendSpans)}–${Math.max(...sendSpans)} for ${TASKS} tasks`);
}
console.log(`goals       ${goalLines.join('; ')}`);
process.exit(0);
