import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Capture } from './test-io.ts';
import { commands } from '../src/commands/index.ts';

const names = commands.map((c) => c.name).join(', ');

const BIN = join(import.meta.dirname, '..', 'bin', 'nightshift.js');
const NODE_PACKAGE = dirname(dirname(process.execPath));

/** A node older than 24 on PATH (the system's), which the launcher must hand over from; undefined if there is none. */
function findOlderNode(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, 'node');
    try {
      const version = execFileSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      if (Number(version.split('.')[0]) < 24) return candidate;
    } catch {
      // Not there, or not a node.
    }
  }
  return undefined;
}
const olderNode = findOlderNode();
const needsOlderNode = olderNode === undefined ? 'no node older than 24 on PATH' : false;

test('under Node 24 the bin runs the CLI itself', () => {
  const result = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
  assert.equal(result.status, 0);
  assert.match(result.stdout, /^Usage: nightshift <command>/m);
});

test('under an older node the bin hands over to Node 24, keeping the arguments and exit code', { skip: needsOlderNode }, () => {
  const help = spawnSync(olderNode as string, [BIN, 'help', 'up'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /^Usage: nightshift up --app <path>/);
  const unknown = spawnSync(olderNode as string, [BIN, 'uo'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.equal(unknown.stderr, `error: unknown command "uo"\ndid you mean "nightshift up"? (commands: ${names})\n`);
});

test('with no Node 24 to hand over to, the bin says what to do in one line', { skip: needsOlderNode }, async (t) => {
  const root = await tempDir(t);
  await mkdir(join(root, 'bin'));
  await copyFile(BIN, join(root, 'bin', 'nightshift.js'));
  await writeFile(join(root, 'package.json'), '{ "type": "module" }\n');
  const result = spawnSync(olderNode as string, [join(root, 'bin', 'nightshift.js'), '--help'], { encoding: 'utf8' });
  assert.equal(result.status, 1);
  assert.match(result.stderr, /^nightshift needs Node\.js >= 24 \(this is v\d+\.[^)]*\): install it from https:\/\/nodejs\.org \(in the Nightshift repo, `npm install` fetches it into node_modules\)\n$/);
});

/** A copy of the launcher in front of a fake CLI that reports the signals it receives. */
async function launcherWithFakeCli(t: TestContext): Promise<string> {
  const root = await tempDir(t);
  await mkdir(join(root, 'node_modules'));
  await symlink(NODE_PACKAGE, join(root, 'node_modules', 'node'));
  await mkdir(join(root, 'cli', 'bin'), { recursive: true });
  await mkdir(join(root, 'cli', 'src'));
  // Named and exporting its entry as the real one does: the launcher imports the package by its name.
  await writeFile(join(root, 'cli', 'package.json'), '{ "name": "@nightshift/cli", "type": "module", "exports": "./src/main.ts" }\n');
  await copyFile(BIN, join(root, 'cli', 'bin', 'nightshift.js'));
  await writeFile(join(root, 'cli', 'src', 'main.ts'), `
export async function runMain(): Promise<void> {
  const how: string = process.argv[2] ?? '';
  process.on('SIGTERM', () => { console.log('fake cli got SIGTERM'); process.exit(7); });
  console.log('fake cli on node ' + process.versions.node + ' ready');
  if (how === 'die-by-signal') process.kill(process.pid, 'SIGKILL');
  setInterval(() => {}, 1000);
}
`);
  return join(root, 'cli', 'bin', 'nightshift.js');
}

test('the launcher forwards signals to Node 24 and exits as it did', { skip: needsOlderNode }, async (t) => {
  const bin = await launcherWithFakeCli(t);
  // A process group of its own: a failure below kills the launcher and the Node 24 it started, which would
  // otherwise hold the stdout pipe, and so this file's process and the run, open forever.
  const launcher = spawn(olderNode as string, [bin], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  t.after(() => {
    try {
      process.kill(-(launcher.pid as number), 'SIGKILL');
    } catch {
      // Gone, as it should be.
    }
  });
  const stdout = new Capture();
  launcher.stdout.setEncoding('utf8').on('data', (chunk: string) => stdout.write(chunk));
  const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => launcher.on('exit', (code, signal) => resolve([code, signal])));
  await stdout.waitFor(/fake cli on node 24\.\S+ ready/);
  launcher.kill('SIGTERM');
  assert.deepEqual(await exited, [7, null]);
  await stdout.waitFor(/fake cli got SIGTERM/);

  const dying = spawnSync(olderNode as string, [bin, 'die-by-signal'], { encoding: 'utf8' });
  assert.equal(dying.signal, 'SIGKILL', 'the launcher ends by the signal that ended Node 24');
});

async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'nightshift-bin-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}
