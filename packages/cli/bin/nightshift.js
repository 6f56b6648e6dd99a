#!/usr/bin/env node
// Nightshift needs Node >= 24 (installed, its compiled JavaScript; in the repo, its TypeScript sources, which
// Node 24 runs as they are). When an older node runs this file (the system's, first on PATH), it hands over
// to a Node 24 found in node_modules (in the repo, the `node` devDependency), passing on the arguments, the
// terminal, signals and the exit code.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { constants } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REQUIRED_MAJOR = 24;
// Set on the Node 24 child, so that a wrong binary can never hand over again and again.
const HANDED_OVER = 'NIGHTSHIFT_NODE_HANDOVER';
const FORWARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR2'];
const SOURCE_CONDITION = '--conditions=nightshift:source';

const major = (version) => Number(version.replace(/^v/, '').split('.')[0]);

// The package itself, by name: its compiled dist/ when installed, its sources under the repo's export condition.
const entry = packageEntry();
// In the repo, unbuilt, and started without its npm scripts (which set the condition): the sources run, as there.
const sourcesWanted = entry !== undefined && !existsSync(entry);
const newEnough = major(process.versions.node) >= REQUIRED_MAJOR;

if (newEnough && !sourcesWanted) {
  const { runMain } = await import('@nightshift/cli');
  await runMain();
} else {
  const self = fileURLToPath(import.meta.url);
  if (process.env[HANDED_OVER]) {
    process.stderr.write(newEnough
      ? `nightshift: ${entry} is missing: run \`npm run build\`, or start it with NODE_OPTIONS=${SOURCE_CONDITION}\n`
      : `nightshift: ${process.execPath} is Node ${process.version}, not >= ${REQUIRED_MAJOR}\n`);
    process.exit(1);
  }
  const node = newEnough ? process.execPath : findNode(dirname(self));
  if (node === undefined) {
    process.stderr.write(`nightshift needs Node.js >= ${REQUIRED_MAJOR} (this is ${process.version}): install it from https://nodejs.org (in the Nightshift repo, \`npm install\` fetches it into node_modules)\n`);
    process.exit(1);
  }
  handOver(node, [...process.execArgv, self, ...process.argv.slice(2)],
    sourcesWanted ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${SOURCE_CONDITION}`.trim() } : {});
}

/** The path of this package's entry point; undefined where this node cannot say (older than 20.6, or no package). */
function packageEntry() {
  try {
    return fileURLToPath(import.meta.resolve('@nightshift/cli'));
  } catch {
    return undefined;
  }
}

/** The first Node >= 24 in `node_modules/node/bin/node` or `node_modules/.bin/node`, from `start` up to the root. */
function findNode(start) {
  for (let dir = start; ; dir = dirname(dir)) {
    for (const candidate of [join(dir, 'node_modules', 'node', 'bin', 'node'), join(dir, 'node_modules', '.bin', 'node')]) {
      if (existsSync(candidate) && major(versionOf(candidate)) >= REQUIRED_MAJOR) return candidate;
    }
    if (dirname(dir) === dir) return undefined;
  }
}

/** The version of a node binary: from the `node` package beside it if there is one, else by asking it. */
function versionOf(binary) {
  try {
    const manifest = JSON.parse(readFileSync(join(dirname(realpathSync(binary)), '..', 'package.json'), 'utf8'));
    if (manifest.name === 'node' && typeof manifest.version === 'string') return manifest.version;
  } catch {
    // No package beside it: ask the binary itself.
  }
  const answer = spawnSync(binary, ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 10_000 });
  return answer.status === 0 ? answer.stdout.trim() : '0';
}

function handOver(node, args, env = {}) {
  const child = spawn(node, args, { stdio: 'inherit', env: { ...process.env, ...env, [HANDED_OVER]: '1' } });
  // The child is in our process group, so a terminal's Ctrl-C reaches it directly as well;
  // forwarding covers a signal sent to this process alone (kill, a supervisor, npm).
  const forward = (signal) => child.kill(signal);
  for (const signal of FORWARDED_SIGNALS) process.on(signal, forward);
  child.on('error', (error) => {
    process.stderr.write(`nightshift: could not start ${node}: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const s of FORWARDED_SIGNALS) process.off(s, forward);
    // End the way the child ended, so that a shell sees "killed by SIGINT" rather than an exit code.
    // A signal this process ignores (SIGPIPE) returns here, and becomes the shell's 128 + its number.
    if (signal) process.kill(process.pid, signal);
    process.exit(signal ? 128 + (constants.signals[signal] ?? 0) : code ?? 1);
  });
}
