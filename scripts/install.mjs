#!/usr/bin/env node
// Installs the workspace's packages when node_modules is missing or older than package-lock.json,
// so that `npm start` and `npm test` work on a fresh clone. Plain JavaScript on purpose: it runs
// before anything is installed, under whatever Node the machine has (even one older than 24).
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const lock = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');

const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(lock).mtimeMs;
if (stale) {
  process.stderr.write('nightshift: installing packages (npm ci; first run only, takes about half a minute)…\n');
  // Errors only: an older Node prints an EBADENGINE warning per package, expected, since the scripts then run
  // on the Node 24 this installs.
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    process.stderr.write('nightshift: `npm ci` failed (see above); fix that, then run the command again\n');
    process.exit(result.status ?? 1);
  }
}
