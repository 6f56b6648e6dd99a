import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { createUpCommand, type UpSettings } from '../src/commands/up.ts';
import { main } from '../src/main.ts';
import { tempRepo } from './temp-repo.ts';
import { testIo } from './test-io.ts';

const ESC = String.fromCharCode(27);
const APP = join(import.meta.dirname, 'fixtures', 'app.ts');
const BAD_SCHEDULE_APP = join(import.meta.dirname, 'fixtures', 'schedule-bad-app.ts');

function up(settings: UpSettings) {
  return [createUpCommand({ duplicateSignalWindowMs: 0, ...settings })];
}

test('with no service in the repo, up says which issues bring them and exits 0', async (t) => {
  const repoRoot = await tempRepo(t);
  const io = testIo();
  assert.equal(await main(['up', '--app', APP], io, up({ repoRoot })), 0);
  assert.deepEqual(io.stdout.lines().slice(1), [
    'worker      not there yet (issue #3: services/worker)',
    'beat        not there yet (issue #4: services/beat)',
    'alerter     not there yet (issue #5: services/alerter)',
    'health-api  not there yet (issue #7: services/health-api)',
    'nightshift  nothing is supervised yet: no service exists under services/; the issues for worker (#3), beat (#4), alerter (#5), health-api (#7) bring them',
  ]);
  assert.match(io.stdout.lines()[0] ?? '', /^nightshift {2}app "fixture" \(1 task, 1 schedule entry\) from .*app\.ts; broker amqp:\/\/guest:\*\*\*@127\.0\.0\.1:5672, prefix "nightshift"$/);
  assert.equal(io.stderr.text, '');
});

test('--json makes every line of up a JSON object', async (t) => {
  const repoRoot = await tempRepo(t);
  const io = testIo();
  assert.equal(await main(['up', '--app', APP, '--json'], io, up({ repoRoot })), 0);
  const records = io.stdout.records();
  assert.deepEqual(records.map((r) => [r.service, r.event]), [
    ['nightshift', 'app'], ['worker', 'missing'], ['beat', 'missing'], ['alerter', 'missing'], ['health-api', 'missing'], ['nightshift', 'idle'],
  ]);
  assert.deepEqual({ ...records[2], time: undefined }, { time: undefined, service: 'beat', event: 'missing', message: 'not there yet (issue #4: services/beat)', issue: 4, path: 'services/beat' });
});

test('prefixes are coloured on a terminal unless NO_COLOR is set', async (t) => {
  const repoRoot = await tempRepo(t);
  const tty = testIo({ tty: true });
  await main(['up', '--app', APP], tty, up({ repoRoot }));
  assert.match(tty.stdout.text, new RegExp(`${ESC}\\[\\d+mbeat {8}${ESC}\\[0mnot there yet`));
  const noColor = testIo({ tty: true, env: { NO_COLOR: '1' } });
  await main(['up', '--app', APP], noColor, up({ repoRoot }));
  assert.ok(!noColor.stdout.text.includes(ESC));
});

test('the app and the environment are checked before anything starts', async (t) => {
  const repoRoot = await tempRepo(t, { worker: 'console.log("must not start")' });
  const badEnv = testIo({ env: { NIGHTSHIFT_PREFIX: 'not a prefix!' } });
  assert.equal(await main(['up', '--app', APP], badEnv, up({ repoRoot })), 2);
  assert.match(badEnv.stderr.text, /^error: invalid configuration:\n {2}NIGHTSHIFT_PREFIX: "not a prefix!" must be/);
  assert.equal(badEnv.stdout.text, '');

  const notAnApp = join(repoRoot, 'not-an-app.ts');
  await writeFile(notAnApp, 'export default 42;\n');
  const io = testIo();
  assert.equal(await main(['up', '--app', notAnApp], io, up({ repoRoot })), 2);
  assert.match(io.stderr.text, /^error: --app .*not-an-app\.ts: the module's default export is not an app/);
});

// The handler comes before the first line: tests send SIGTERM as soon as they see that line.
const FAKE_WORKER = `
process.on('SIGTERM', () => { console.log('worker draining'); setTimeout(() => process.exit(0), 20); });
console.log('worker args: ' + process.argv.slice(2).join(' '));
setInterval(() => {}, 1000);
`;

test('up runs the services there are, passes --app, and stops them all on SIGTERM with exit 0', async (t) => {
  const repoRoot = await tempRepo(t, { worker: FAKE_WORKER });
  const io = testIo();
  const exit = main(['up', '--app', APP], io, up({ repoRoot }));
  t.after(() => stopUp(io, exit));
  await io.stdout.waitFor(/^worker {6}worker args: --app .*fixtures\/app\.ts$/m);
  assert.match(io.stdout.text, /^worker {6}started \(pid \d+\)$/m);
  assert.match(io.stdout.text, /^beat {8}not there yet \(issue #4: services\/beat\)$/m);
  assert.match(io.stdout.text, /^nightshift {2}supervising worker; Ctrl-C stops them, giving running tasks the worker's grace \(NIGHTSHIFT_WORKER_GRACE, 30 s\) to finish; any still running after 35 s is killed$/m);
  io.interrupt('SIGTERM');
  assert.equal(await exit, 0);
  const tail = io.stdout.lines().slice(-4);
  assert.deepEqual(tail, [
    'nightshift  SIGTERM: stopping worker (Ctrl-C again kills them at once)',
    'worker      worker draining',
    'worker      stopped',
    'nightshift  all services stopped',
  ]);
});

test('up names a NIGHTSHIFT_* variable no service reads (a typo), not one that another service reads', async (t) => {
  const repoRoot = await tempRepo(t, { worker: FAKE_WORKER });
  const io = testIo({ env: { NIGHTSHIFT_PREFX: 'shop', NIGHTSHIFT_HTTP_PORT: '8080' } });
  const exit = main(['up', '--app', APP], io, up({ repoRoot }));
  t.after(() => stopUp(io, exit));
  await io.stdout.waitFor(/^nightshift {2}NIGHTSHIFT_PREFX is not a Nightshift setting and is ignored \(did you mean NIGHTSHIFT_PREFIX\?\)$/m);
  await io.stdout.waitFor(/^worker {6}started/m);
  io.interrupt('SIGTERM');
  assert.equal(await exit, 0);
  assert.doesNotMatch(io.stdout.text, /NIGHTSHIFT_HTTP_PORT/);
});

test('a second Ctrl-C kills at once and up exits 1', async (t) => {
  const repoRoot = await tempRepo(t, { worker: `process.on('SIGTERM', () => console.log('not stopping')); console.log('ready'); setInterval(() => {}, 1000);` });
  const io = testIo();
  const exit = main(['up', '--app', APP, '--grace', '1m'], io, up({ repoRoot }));
  t.after(() => stopUp(io, exit));
  await io.stdout.waitFor(/^worker +ready$/m);
  const started = Date.now();
  io.interrupt('SIGINT');
  await io.stdout.waitFor(/^worker +not stopping$/m);
  io.interrupt('SIGINT');
  assert.equal(await exit, 1);
  assert.ok(Date.now() - started < 10_000, 'did not wait for the 1m grace period');
  assert.match(io.stdout.text, /^nightshift {2}SIGINT again: killing worker$/m);
  assert.match(io.stdout.text, /^nightshift {2}stopped; worker had to be killed$/m);
});

test('signals that echo the first Ctrl-C within the window do not count as a second one', async (t) => {
  const repoRoot = await tempRepo(t, { worker: FAKE_WORKER });
  const io = testIo();
  const exit = main(['up', '--app', APP], io, [createUpCommand({ repoRoot, duplicateSignalWindowMs: 5_000 })]);
  t.after(() => stopUp(io, exit));
  await io.stdout.waitFor(/^worker +worker args/m);
  io.interrupt('SIGINT');
  io.interrupt('SIGINT');
  io.interrupt('SIGTERM');
  assert.equal(await exit, 0);
  assert.doesNotMatch(io.stdout.text, /again: killing/);
});

const PRINT_PORT = `console.log('metrics port: ' + (process.env.NIGHTSHIFT_METRICS_PORT ?? 'default')); process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);`;

test('each service gets its own NIGHTSHIFT_<SERVICE>_METRICS_PORT as NIGHTSHIFT_METRICS_PORT', async (t) => {
  const repoRoot = await tempRepo(t, { worker: PRINT_PORT, beat: PRINT_PORT, 'health-api': PRINT_PORT });
  const io = testIo({ env: { NIGHTSHIFT_WORKER_METRICS_PORT: '19464', NIGHTSHIFT_HEALTH_API_METRICS_PORT: '0', NIGHTSHIFT_METRICS_PORT: '0' } });
  const exit = main(['up', '--app', APP], io, up({ repoRoot }));
  t.after(() => stopUp(io, exit));
  await io.stdout.waitFor(/^worker +metrics port/m);
  await io.stdout.waitFor(/^beat +metrics port/m);
  await io.stdout.waitFor(/^health-api +metrics port/m);
  io.interrupt('SIGTERM');
  assert.equal(await exit, 0);
  assert.match(io.stdout.text, /^worker {6}metrics port: 19464$/m);
  assert.match(io.stdout.text, /^beat {8}metrics port: 0$/m, 'the shared 0 for a service without its own');
  assert.match(io.stdout.text, /^health-api {2}metrics port: 0$/m);
});

test('a shared non-zero NIGHTSHIFT_METRICS_PORT, a bad port or one port twice stops up before anything starts', async (t) => {
  const repoRoot = await tempRepo(t, { worker: 'console.log("must not start")', beat: 'console.log("must not start")' });
  const shared = testIo({ env: { NIGHTSHIFT_METRICS_PORT: '9000' } });
  assert.equal(await main(['up', '--app', APP], shared, up({ repoRoot })), 2);
  assert.match(shared.stderr.text, /NIGHTSHIFT_METRICS_PORT: 9000 would be the \/metrics port of worker, beat at once; give each its own \(NIGHTSHIFT_WORKER_METRICS_PORT, NIGHTSHIFT_BEAT_METRICS_PORT\), or set it to 0/);
  assert.equal(shared.stdout.text, '');
  const bad = testIo({ env: { NIGHTSHIFT_BEAT_METRICS_PORT: 'high', NIGHTSHIFT_WORKER_METRICS_PORT: '70000' } });
  assert.equal(await main(['up', '--app', APP], bad, up({ repoRoot })), 2);
  assert.match(bad.stderr.text, /NIGHTSHIFT_WORKER_METRICS_PORT: "70000" must be a whole number from 0 to 65535/);
  assert.match(bad.stderr.text, /NIGHTSHIFT_BEAT_METRICS_PORT: "high" must be/);
  const twice = testIo({ env: { NIGHTSHIFT_BEAT_METRICS_PORT: '9100', NIGHTSHIFT_WORKER_METRICS_PORT: '9100' } });
  assert.equal(await main(['up', '--app', APP], twice, up({ repoRoot })), 2);
  assert.match(twice.stderr.text, /NIGHTSHIFT_WORKER_METRICS_PORT, NIGHTSHIFT_BEAT_METRICS_PORT: the same port 9100 for worker and beat/);
});

test('an invalid schedule stops up before anything starts, naming every bad entry, exit 2', { timeout: 10_000 }, async (t) => {
  const repoRoot = await tempRepo(t, { worker: 'console.log("must not start")', beat: 'console.log("must not start")' });
  const io = testIo();
  const exit = main(['up', '--app', BAD_SCHEDULE_APP], io, up({ repoRoot }));
  t.after(() => stopUp(io, exit));
  assert.equal(await exit, 2);
  assert.equal(io.stderr.text, [
    'error: 2 of 3 schedule entries of app "schedule-bad-fixture" are invalid, so nothing was started:',
    '  schedule[1] "nightly" "0 25 * * *": hour "25" has 25, outside 0-23',
    '  schedule[2] "often": "100ms" is shorter than the shortest interval, 1s',
    `nightshift schedule explain --app ${BAD_SCHEDULE_APP} shows the schedule as beat reads it`,
    '',
  ].join('\n'));
  assert.equal(io.stdout.text, '');
});

// A service's way of refusing its configuration (services/*/src/main.ts): one line on stderr, exit 2.
const MISCONFIGURED_BEAT = `console.log('{"level":30,"msg":"starting"}'); process.stderr.write('beat: invalid configuration:\\n  NIGHTSHIFT_LEASE: "soon" is not a duration\\n'); process.exit(2);`;

test('a service that exits with code 2 (a configuration error) is not restarted: up says what it printed, stops the others, exits 2', { timeout: 10_000 }, async (t) => {
  const repoRoot = await tempRepo(t, { worker: FAKE_WORKER, beat: MISCONFIGURED_BEAT });
  const io = testIo();
  const exit = main(['up', '--app', APP], io, up({ repoRoot, restart: { initialDelayMs: 10 } }));
  t.after(() => stopUp(io, exit));
  assert.equal(await exit, 2);
  assert.match(io.stdout.text, /^beat {8}exited with code 2 \(a configuration error\), which a restart cannot fix; it said: beat: invalid configuration: NIGHTSHIFT_LEASE: "soon" is not a duration(; stopping worker)?$/m);
  assert.match(io.stdout.text, /^worker {6}stopped$/m);
  assert.equal(io.stdout.lines().at(-1), 'nightshift  stopped because beat exited with code 2 (a configuration error)');
  assert.equal(io.stdout.text.match(/^beat +started/gm)?.length, 1, 'beat started once');
  assert.doesNotMatch(io.stdout.text, /restarting/);
  assert.match(io.stderr.text, /^beat {8}beat: invalid configuration:$/m, 'its own lines are shown as well');
});

test('the grace period is the worker\'s (NIGHTSHIFT_WORKER_GRACE, else 30s) plus 5s, unless --grace says otherwise', async (t) => {
  const repoRoot = await tempRepo(t, { worker: FAKE_WORKER });
  const graceOf = async (argv: string[], env: Record<string, string> = {}) => {
    const io = testIo({ env });
    const exit = main(['up', '--app', APP, '--json', ...argv], io, up({ repoRoot }));
    t.after(() => stopUp(io, exit));
    await io.stdout.waitFor(/"event":"supervising"/);
    io.interrupt('SIGTERM');
    assert.equal(await exit, 0);
    const { gracePeriodMs, workerGraceMs, message } = io.stdout.records().find((r) => r.event === 'supervising') ?? {};
    return { gracePeriodMs, workerGraceMs, message };
  };
  assert.deepEqual(await graceOf([]), {
    gracePeriodMs: 35_000, workerGraceMs: 30_000,
    message: 'supervising worker; Ctrl-C stops them, giving running tasks the worker\'s grace (NIGHTSHIFT_WORKER_GRACE, 30 s) to finish; any still running after 35 s is killed',
  });
  assert.deepEqual(await graceOf([], { NIGHTSHIFT_WORKER_GRACE: '2m' }), {
    gracePeriodMs: 125_000, workerGraceMs: 120_000,
    message: 'supervising worker; Ctrl-C stops them, giving running tasks the worker\'s grace (NIGHTSHIFT_WORKER_GRACE, 2 min) to finish; any still running after 2 min 5 s is killed',
  });
  assert.deepEqual(await graceOf(['--grace', '3s'], { NIGHTSHIFT_WORKER_GRACE: '2m' }), {
    gracePeriodMs: 3_000, workerGraceMs: 120_000,
    message: 'supervising worker; Ctrl-C stops them; any still running after 3 s (--grace) is killed, before running tasks have had the worker\'s grace (NIGHTSHIFT_WORKER_GRACE, 2 min) to finish',
  });

  const bad = testIo({ env: { NIGHTSHIFT_WORKER_GRACE: 'forever' } });
  assert.equal(await main(['up', '--app', APP], bad, up({ repoRoot })), 2);
  assert.match(bad.stderr.text, /^error: NIGHTSHIFT_WORKER_GRACE: "forever" is not a duration/);
  assert.equal(bad.stdout.text, '');
  const badWithGrace = testIo({ env: { NIGHTSHIFT_WORKER_GRACE: 'forever' } });
  assert.equal(await main(['up', '--app', APP, '--grace', '3s'], badWithGrace, up({ repoRoot })), 2, 'the worker would refuse it: up refuses it before anything starts');
  assert.match(badWithGrace.stderr.text, /^error: NIGHTSHIFT_WORKER_GRACE: "forever" is not a duration/);
});

/** Ends an `up` that a failed assertion left running: Ctrl-C twice, then wait for it. */
async function stopUp(io: ReturnType<typeof testIo>, exit: Promise<number>): Promise<void> {
  io.interrupt('SIGINT');
  io.interrupt('SIGINT');
  await exit;
}

/** A loopback port nothing listens on (it was free a moment ago). */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('a broker that refuses connections: up says so once, starts nothing, and gives up after its bound', async (t) => {
  const repoRoot = await tempRepo(t, { worker: 'console.log("must not start")' });
  const port = await refusedPort();
  const io = testIo({ env: { NIGHTSHIFT_AMQP_URL: `amqp://guest:secret@127.0.0.1:${port}` } });
  assert.equal(await main(['up', '--app', APP], io, up({ repoRoot, brokerWaitMs: 1_500 })), 1);
  assert.deepEqual(io.stdout.lines().slice(4), [
    `nightshift  RabbitMQ at amqp://guest:***@127.0.0.1:${port} refused the connection (is it running? NIGHTSHIFT_AMQP_URL); waiting up to 1.5s for it before starting the services`,
  ]);
  assert.equal(io.stderr.text, `error: RabbitMQ at amqp://guest:***@127.0.0.1:${port} still refuses connections after 1.5 s; nothing was started\nstart RabbitMQ (or set NIGHTSHIFT_AMQP_URL to where it runs), then run nightshift up again\n`);
  assert.doesNotMatch(io.stdout.text + io.stderr.text, /must not start|secret/);
});

test('a broker that refuses at first: up waits, and starts the services once it accepts', async (t) => {
  const repoRoot = await tempRepo(t, { worker: FAKE_WORKER });
  const port = await refusedPort();
  const io = testIo({ env: { NIGHTSHIFT_AMQP_URL: `amqp://guest:guest@127.0.0.1:${port}` } });
  const exit = main(['up', '--app', APP], io, up({ repoRoot, brokerWaitMs: 60_000 }));
  t.after(() => stopUp(io, exit));
  await io.stdout.waitFor(/refused the connection/);
  assert.doesNotMatch(io.stdout.text, /worker args/, 'nothing starts while the broker refuses');
  const broker = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => broker.listen(port, '127.0.0.1', resolve));
  t.after(() => broker.close());
  await io.stdout.waitFor(/^worker {6}worker args: --app /m);
  assert.match(io.stdout.text, new RegExp(`^nightshift {2}RabbitMQ at amqp://guest:\\*\\*\\*@127\\.0\\.0\\.1:${port} accepts connections after \\d+s; starting the services$`, 'm'));
});
