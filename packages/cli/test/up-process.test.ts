// `nightshift up` and `nightshift beat` as processes of their own, with real signals: the terminal closing
// (SIGHUP), and the CLI itself being killed, which must not leave services behind.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { tempRepo } from './temp-repo.ts';
import { Capture, isAlive, waitUntil } from './test-io.ts';

const APP = join(import.meta.dirname, 'fixtures', 'app.ts');
const NIGHTSHIFT = join(import.meta.dirname, 'fixtures', 'nightshift-process.ts');
// NODE_OPTIONS carries the repo's export condition, with which the fixture's imports find the sources.
const ENV = { PATH: process.env.PATH, NODE_OPTIONS: process.env.NODE_OPTIONS, NO_COLOR: '1', SHELL: '/bin/sh' };

// Each handler comes before the first line: the tests signal as soon as they see it.
const POLITE = `process.on('SIGTERM', () => { console.log('draining'); setTimeout(() => process.exit(0), 20); }); console.log('pid ' + process.pid); setInterval(() => {}, 1000);`;
const DEAF = `process.on('SIGTERM', () => console.log('ignoring SIGTERM')); console.log('pid ' + process.pid); setInterval(() => {}, 1000);`;

/** `nightshift <argv>` on the fake services of `repoRoot`, in a process of its own. */
function nightshift(t: TestContext, repoRoot: string, argv: readonly string[]) {
  const child = spawn(process.execPath, [NIGHTSHIFT, repoRoot, join(repoRoot, 'exit-code'), ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: ENV });
  const stdout = new Capture();
  const stderr = new Capture();
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.write(chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => stderr.write(chunk));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.once('exit', (code, signal) => resolve([code, signal])));
  t.after(() => {
    child.kill('SIGKILL');
    killServices(stdout.text);
  });
  return { child, stdout, stderr, exited };
}

/** The pid a fake service printed, as `<prefix>pid <n>`. */
async function servicePid(output: Capture, prefix: string): Promise<number> {
  const pattern = new RegExp(`^${prefix}pid (\\d+)\\r?$`, 'm');
  await output.waitFor(pattern);
  return Number(pattern.exec(output.text)?.[1]);
}

/** Whatever a failed test left running: the process group of every fake service that printed its pid. */
function killServices(output: string): void {
  for (const [, pid] of output.matchAll(/pid (\d+)/g)) {
    try {
      process.kill(-Number(pid), 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  }
}

test('SIGHUP (the terminal closed) makes up stop every service gracefully and exit 0, as SIGTERM does', async (t) => {
  const repoRoot = await tempRepo(t, { worker: POLITE, beat: POLITE });
  const up = nightshift(t, repoRoot, ['up', '--app', APP]);
  const pids = [await servicePid(up.stdout, 'worker +'), await servicePid(up.stdout, 'beat +')];
  up.child.kill('SIGHUP');
  assert.deepEqual(await up.exited, [0, null], up.stderr.text);
  const lines = up.stdout.lines();
  for (const line of ['nightshift  SIGHUP: stopping worker, beat (Ctrl-C again kills them at once)', 'worker      draining', 'beat        draining', 'worker      stopped', 'beat        stopped', 'nightshift  all services stopped']) {
    assert.ok(lines.includes(line), `missing ${JSON.stringify(line)} in:\n${up.stdout.text}`);
  }
  for (const pid of pids) assert.equal(isAlive(pid), false);
});

test('SIGHUP makes a foreground service command (nightshift beat) stop its service gracefully', async (t) => {
  const repoRoot = await tempRepo(t, { beat: POLITE });
  const beat = nightshift(t, repoRoot, ['beat', '--app', APP]);
  const pid = await servicePid(beat.stdout, '');
  beat.child.kill('SIGHUP');
  assert.deepEqual(await beat.exited, [0, null], beat.stderr.text);
  assert.match(beat.stdout.text, /^draining$/m);
  assert.equal(isAlive(pid), false);
});

test('services stop by themselves when up is killed: SIGTERM first, SIGKILL after the grace period', async (t) => {
  const repoRoot = await tempRepo(t, { worker: POLITE, beat: DEAF });
  const up = nightshift(t, repoRoot, ['up', '--app', APP, '--grace', '500ms']);
  const polite = await servicePid(up.stdout, 'worker +');
  const deaf = await servicePid(up.stdout, 'beat +');
  const killedAt = Date.now();
  up.child.kill('SIGKILL');
  await waitUntil(() => !isAlive(polite), 5_000);
  await waitUntil(() => !isAlive(deaf), 5_000);
  assert.ok(Date.now() - killedAt >= 450, 'the deaf one had its grace period');
});

test('a foreground service stops by itself when its nightshift command is killed', async (t) => {
  const repoRoot = await tempRepo(t, { beat: POLITE });
  const beat = nightshift(t, repoRoot, ['beat', '--app', APP]);
  const pid = await servicePid(beat.stdout, '');
  beat.child.kill('SIGKILL');
  await waitUntil(() => !isAlive(pid), 5_000);
});

/** util-linux `script`, which runs a command on a terminal of its own; undefined when it is not installed. */
const script = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0 ? 'script' : undefined;

test('closing up\'s terminal stops every service, and up lives to exit 0', { skip: script ? false : 'no util-linux script to run up on a terminal' }, async (t) => {
  const repoRoot = await tempRepo(t, { worker: POLITE });
  const exitFile = join(repoRoot, 'exit-code');
  const command = [process.execPath, NIGHTSHIFT, repoRoot, exitFile, 'up', '--app', APP].map((word) => `'${word.replaceAll('\'', '\'\\\'\'')}'`).join(' ');
  // stdin stays open: at its end, script would end the session itself.
  const terminal = spawn(script as string, ['--quiet', '--flush', '--command', `exec ${command}`, '/dev/null'], { stdio: ['pipe', 'pipe', 'ignore'], env: ENV });
  const output = new Capture();
  terminal.stdout.setEncoding('utf8').on('data', (chunk: string) => output.write(chunk));
  t.after(() => {
    terminal.kill('SIGKILL');
    killServices(output.text);
  });
  const pid = await servicePid(output, 'worker +');
  // The terminal goes away: its session gets SIGHUP, and writing to it fails with EIO from then on.
  terminal.kill('SIGKILL');
  await waitUntil(() => existsSync(exitFile), 10_000);
  assert.equal(readFileSync(exitFile, 'utf8'), '0', 'up stopped its services and exited 0, rather than die of SIGHUP or EIO');
  assert.equal(isAlive(pid), false);
});
