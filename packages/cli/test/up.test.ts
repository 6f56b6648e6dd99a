import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { createUpCommand, type UpSettings } from '../src/commands/up.ts';
import { main } from '../src/main.ts';
import { testIo } from './test-io.ts';

const ESC = String.fromCharCode(27);
const APP = join(import.meta.dirname, 'fixtures', 'app.ts');

/** A repo layout in a temp folder, with the given fake services at `services/<name>/src/main.ts`. */
async function tempRepo(t: TestContext, services: Record<string, string> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'nightshift-up-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  await mkdir(join(root, 'services'));
  for (const [name, source] of Object.entries(services)) {
    await mkdir(join(root, 'services', name, 'src'), { recursive: true });
    await writeFile(join(root, 'services', name, 'src', 'main.ts'), source);
  }
  return root;
}

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
  assert.match(io.stdout.text, /^nightshift {2}supervising worker; Ctrl-C stops them$/m);
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

/** Ends an `up` that a failed assertion left running: Ctrl-C twice, then wait for it. */
async function stopUp(io: ReturnType<typeof testIo>, exit: Promise<number>): Promise<void> {
  io.interrupt('SIGINT');
  io.interrupt('SIGINT');
  await exit;
}
