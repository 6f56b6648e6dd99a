// scripts/test-tools.sh, the pre-script of `npm test` and `npm run demo`, on a machine without Prometheus,
// Chromium or docker-compose. Hermetic: PATH holds only a fake `id` (root or not) and, where asked, a fake `apt-get` that notes
// its arguments and "installs" by writing stand-in programs into the same folder. Nothing is really installed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';

const SCRIPT = fileURLToPath(new URL('../../../scripts/test-tools.sh', import.meta.url));
const BASH = '/bin/bash';
const folders: string[] = [];
after(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

interface Machine {
  /** The fake `id -u` answers 0. */
  readonly root: boolean;
  /** A fake apt-get: `'works'` installs, `'fails'` exits 100 with a message, `undefined` there is none. */
  readonly aptGet?: 'works' | 'fails';
  /** Programs already installed. */
  readonly installed?: readonly string[];
  /** A `docker` whose compose plugin answers (`'plugin'`) or is missing (`'bare'`, exit 125 as the real one). */
  readonly docker?: 'plugin' | 'bare';
}

function executable(path: string, body: string): void {
  writeFileSync(path, `#!${BASH}\n${body}\n`);
  chmodSync(path, 0o755);
}

/** Runs the script on a fake machine; returns its result and the apt-get calls, one line each. */
function runTools(machine: Machine, args: readonly string[] = [], env: Record<string, string> = {}) {
  const bin = mkdtempSync(join(tmpdir(), 'nightshift-tools-'));
  folders.push(bin);
  const calls = join(bin, 'apt-get.calls');
  executable(join(bin, 'id'), `[[ $1 == -u ]] && echo ${machine.root ? 0 : 1000}`);
  for (const program of machine.installed ?? []) executable(join(bin, program), 'echo stand-in');
  if (machine.docker) executable(join(bin, 'docker'), machine.docker === 'plugin' ? 'echo "Docker Compose version v2.29.7"' : "echo \"unknown command: docker $1\" >&2; exit 125");
  if (machine.aptGet === 'works') {
    executable(join(bin, 'apt-get'), [
      `echo "DEBIAN_FRONTEND=\${DEBIAN_FRONTEND-} $*" >> ${calls}`,
      'if [[ " $* " == *" install "* ]]; then',
      `  for package in "$@"; do case $package in prometheus) programs="promtool prometheus";; chromium) programs=chromium;; docker-compose) programs=docker-compose;; *) continue;; esac`,
      `    for program in $programs; do printf '#!${BASH}\\necho stand-in\\n' > ${bin}/$program; /bin/chmod 755 ${bin}/$program; done; done`,
      'fi',
    ].join('\n'));
  } else if (machine.aptGet === 'fails') {
    executable(join(bin, 'apt-get'), `echo "$*" >> ${calls}; echo 'E: Unable to locate package chromium'; exit 100`);
  }
  const result = spawnSync(BASH, [SCRIPT, ...args], { env: { PATH: bin, ...env }, encoding: 'utf8', timeout: 30_000 });
  return { ...result, calls: existsSync(calls) ? readFileSync(calls, 'utf8').trimEnd().split('\n') : [] };
}

test('as root with apt-get, the missing programs are installed with apt-get, non-interactively', () => {
  const run = runTools({ root: true, aptGet: 'works' });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.deepEqual(run.calls, ['DEBIAN_FRONTEND= -qq update', 'DEBIAN_FRONTEND=noninteractive -qq install -y prometheus chromium docker-compose']);
  assert.equal(run.stdout, 'nightshift: npm test needs promtool prometheus chromium docker-compose; installing prometheus chromium docker-compose with apt-get (about a minute, once)\nnightshift: installed prometheus chromium docker-compose\n');
  assert.equal(run.stderr, '');
});

test('as root, only the packages of the programs that are missing are installed', () => {
  const run = runTools({ root: true, aptGet: 'works', installed: ['promtool', 'prometheus', 'docker-compose'] });
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.deepEqual(run.calls, ['DEBIAN_FRONTEND= -qq update', 'DEBIAN_FRONTEND=noninteractive -qq install -y chromium']);
});

test('not root: apt-get is not called, and one line says what to run', () => {
  const run = runTools({ root: false, aptGet: 'works' });
  assert.equal(run.status, 1);
  assert.deepEqual(run.calls, []);
  assert.equal(run.stdout, '');
  assert.equal(run.stderr, 'nightshift: npm test needs promtool prometheus chromium docker-compose, not found on PATH; on Debian or Ubuntu: sudo apt-get install -y prometheus chromium docker-compose\n');
});

test('root without apt-get (not Debian): one line says what to run', () => {
  const run = runTools({ root: true, installed: ['promtool', 'prometheus', 'docker-compose'] });
  assert.equal(run.status, 1);
  assert.equal(run.stderr, 'nightshift: npm test needs chromium, not found on PATH; on Debian or Ubuntu: sudo apt-get install -y chromium\n');
});

test('an apt-get that fails is shown, and the script fails', () => {
  const run = runTools({ root: true, aptGet: 'fails' });
  assert.equal(run.status, 1);
  assert.deepEqual(run.calls, ['-qq update']);
  assert.match(run.stderr, /^E: Unable to locate package chromium\nnightshift: apt-get could not install prometheus chromium docker-compose \(see above\); install it, then run npm test again\n$/);
});

test('npm run demo asks for Prometheus only, and says it is for the demo', () => {
  const demo = { npm_lifecycle_event: 'predemo' };
  const refused = runTools({ root: false, aptGet: 'works' }, ['prometheus'], demo);
  assert.equal(refused.stderr, 'nightshift: npm run demo needs prometheus, not found on PATH; on Debian or Ubuntu: sudo apt-get install -y prometheus\n');
  const installed = runTools({ root: true, aptGet: 'works' }, ['prometheus'], demo);
  assert.equal(installed.status, 0, installed.stderr);
  assert.deepEqual(installed.calls, ['DEBIAN_FRONTEND= -qq update', 'DEBIAN_FRONTEND=noninteractive -qq install -y prometheus']);
});

test('nothing missing: silent, and apt-get is not called', () => {
  const run = runTools({ root: true, aptGet: 'works', installed: ['promtool', 'prometheus', 'chromium', 'docker-compose'] });
  assert.equal(run.status, 0);
  assert.equal(run.stdout + run.stderr, '');
  assert.deepEqual(run.calls, []);
});

test('the Docker CLI\'s compose plugin stands for docker-compose; a docker without it does not', () => {
  const plugin = runTools({ root: true, aptGet: 'works', installed: ['promtool', 'prometheus', 'chromium'], docker: 'plugin' });
  assert.equal(plugin.status, 0, plugin.stdout + plugin.stderr);
  assert.deepEqual(plugin.calls, []);
  const bare = runTools({ root: true, aptGet: 'works', installed: ['promtool', 'prometheus', 'chromium'], docker: 'bare' });
  assert.equal(bare.status, 0, bare.stdout + bare.stderr);
  assert.deepEqual(bare.calls, ['DEBIAN_FRONTEND= -qq update', 'DEBIAN_FRONTEND=noninteractive -qq install -y docker-compose']);
});
