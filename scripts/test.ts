// `npm test`: every suite, in three phases, each phase's wall time printed at the end.
//   1. every workspace's `test`, two workspaces at a time (each runs two test files at a time: they mostly
//      wait on the servers, and node's default on a 2-core machine is one file at a time);
//   2. the suites that start whole stacks or servers of their own (`test:stack`, `test:pack`), and the ones that
//      load beat with thousands of entries for a minute each (`test:scale`), two at a time: they share the
//      machine's servers only under their own random prefixes, like phase 1;
//   3. the fault suites (`test:fault`), one at a time and nothing beside them: they stop the machine's
//      RabbitMQ, which would break any other suite connected to it; the cluster suite (`test:cluster`), which
//      kills RabbitMQ nodes of its own and holds clients to a 2 s failover (a loaded machine's CI once took 3 s
//      beside the stack suites); and the quiet suites (`test:quiet`), which measure what a user waits for (the
//      dashboard's pages within 1 s). Each needs the machine to itself.
// Every phase runs even when an earlier one failed (the whole picture in one run); the exit code is non-zero
// when any failed. Interrupted, it starts no further phase and exits non-zero itself: turbo exits 0 when it
// is interrupted, so its status alone would report an interrupted run as passed.
import { spawn } from 'node:child_process';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FailureDigest } from './failure-digest.ts';

const REPO_ROOT = join(import.meta.dirname, '..');
const TURBO = join(REPO_ROOT, 'node_modules', '.bin', 'turbo');

interface Phase {
  readonly name: string;
  readonly turbo: readonly string[];
}

const PHASES: readonly Phase[] = [
  { name: 'workspace tests', turbo: ['run', 'test', '--concurrency=2', '--continue'] },
  { name: 'stack, pack and scale suites', turbo: ['run', 'test:stack', 'test:pack', 'test:scale', '--concurrency=2', '--continue'] },
  { name: 'fault, cluster and quiet suites (alone on the machine)', turbo: ['run', 'test:fault', 'test:cluster', 'test:quiet', '--concurrency=1', '--continue'] },
];

// Every node process of the run (test files, the services they start) shares one V8 code cache: each
// compiles the same TypeScript sources, so all but the first load them from the cache, a quarter less CPU.
// Node keeps each entry with a hash of its source, so a changed file is compiled afresh. Under tmpdir, as
// Node's documentation advises, so stale entries never fill the repository's disk.
process.env.NODE_COMPILE_CACHE ??= join(tmpdir(), 'nightshift-node-compile-cache');

let interruptedBy: NodeJS.Signals | undefined;
let running: ReturnType<typeof spawn> | undefined;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    interruptedBy ??= signal;
    // Ctrl-C reaches turbo already (same process group); a signal sent to this process alone is passed on.
    if (signal !== 'SIGINT') running?.kill(signal);
  });
}

const failures = new FailureDigest();

function runPhase(phase: Phase): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(TURBO, phase.turbo, { cwd: REPO_ROOT, stdio: ['inherit', 'pipe', 'pipe'] });
    running = child;
    for (const [stream, sink] of [[child.stdout, process.stdout], [child.stderr, process.stderr]] as const) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        sink.write(chunk);
        failures.add(chunk);
      });
    }
    child.on('error', (error) => {
      console.error(`npm test: could not start turbo for the ${phase.name}: ${error.message}`);
      resolve(1);
    });
    child.on('close', (code, signal) => {
      running = undefined;
      resolve(code ?? 128 + (signal ? constants.signals[signal] : 1));
    });
  });
}

interface Outcome {
  readonly phase: Phase;
  readonly status: 'passed' | 'FAILED' | 'interrupted' | 'not run';
  readonly seconds?: number;
}

const outcomes: Outcome[] = [];
for (const phase of PHASES) {
  if (interruptedBy) {
    outcomes.push({ phase, status: 'not run' });
    continue;
  }
  console.log(`\nnpm test: phase ${outcomes.length + 1} of ${PHASES.length}, ${phase.name}: turbo ${phase.turbo.join(' ')}`);
  const started = performance.now();
  const code = await runPhase(phase);
  const seconds = (performance.now() - started) / 1_000;
  outcomes.push({ phase, seconds, status: interruptedBy ? 'interrupted' : code === 0 ? 'passed' : 'FAILED' });
}

console.log('\nnpm test: wall time per phase');
outcomes.forEach(({ phase, status, seconds }, index) => {
  const took = seconds === undefined ? '' : ` in ${seconds.toFixed(0)} s`;
  console.log(`  ${index + 1}. ${phase.name}: ${status}${took}`);
});
const total = outcomes.reduce((sum, { seconds }) => sum + (seconds ?? 0), 0);
console.log(`  total ${total.toFixed(0)} s`);

if (interruptedBy) {
  console.error(`npm test: interrupted by ${interruptedBy}`);
  process.exit(128 + constants.signals[interruptedBy]);
}
const failed = outcomes.filter(({ status }) => status !== 'passed');
if (failed.length > 0) {
  const digest = failures.render();
  if (digest) console.error(`\nnpm test: what failed (each test's error is in its task's output above)\n${digest}\n`);
  console.error(`npm test: FAILED in ${failed.map(({ phase }) => phase.name).join(', ')} (see each task's output above)`);
  process.exit(1);
}
