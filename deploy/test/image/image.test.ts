// What the image runs, without Docker: the build context (the repository less deploy/Dockerfile.dockerignore),
// the dependencies stage's install steps read from the Dockerfile and run as they are, then each service
// through the image's entry point with NODE_ENV=production, probed by the image's HEALTHCHECK script and
// stopped with SIGTERM as `docker stop` does. A package the image does not need, a service that imports a
// devDependency, an entry point that loses a flag, or a healthcheck that cannot see its service fails here.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, randomPrefix, removePrefix, requireServices, type ServiceUrls } from '@nightshift/test-helpers';
import { deployPath, REPO_ROOT } from '../tools.ts';

const SERVICES = ['worker', 'beat', 'alerter', 'health-api'] as const;
type Service = (typeof SERVICES)[number];
/** The workspaces whose code the image runs: the services, the CLI, the example app. */
const RUNTIME_WORKSPACES = [...SERVICES.map((service) => `services/${service}`), 'packages/cli', 'examples/factory'];
/** Packages only the repo's tools or the tests use, named so that a failure says which one came back. */
const NOT_IN_IMAGE = [
  'typescript', 'eslint', 'turbo', 'playwright-core', 'node',
  '@nightshift/testing', '@nightshift/test-helpers', '@nightshift/test-servers', 'testcontainers', 'ssh2', 'dockerode', 'smtp-server',
];

interface LockEntry {
  link?: boolean;
  resolved?: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/**
 * The shell steps of the Dockerfile's dependencies stage, in order, less the two that reach outside /app
 * (`npm install --global` of npm itself, `npm cache clean`). Any other kind of step fails here rather than
 * run on this machine.
 */
function installSteps(): string[] {
  const lines = readFileSync(deployPath('Dockerfile'), 'utf8').split('\n').filter((line) => !/^\s*#/.test(line))
    .join('\n').replace(/\\\n/g, ' ').split('\n').map((line) => line.trim());
  const from = lines.findIndex((line) => /^FROM \S+ AS dependencies$/i.test(line));
  assert.notEqual(from, -1, 'the Dockerfile has a dependencies stage');
  const end = lines.findIndex((line, index) => index > from && /^FROM /i.test(line));
  const steps = lines.slice(from + 1, end).filter((line) => /^RUN /i.test(line))
    .flatMap((line) => line.replace(/^RUN /i, '').split('&&')).map((step) => step.trim().replace(/\s+/g, ' '))
    .filter((step) => !/^npm install --global /.test(step) && !/^npm cache /.test(step));
  for (const step of steps) assert.match(step, /^npm (ci|pkg) /, `a dependencies step this test does not know how to run here: ${step}`);
  assert.ok(steps.some((step) => step.startsWith('npm ci ')), 'the dependencies stage runs npm ci');
  return steps;
}

/**
 * The lockfile locations the runtime workspaces need: their links, their production, optional and peer
 * dependencies, transitively, each found as Node finds it (the nearest node_modules upwards).
 */
function runtimeLocations(packages: Record<string, LockEntry>, workspaces: readonly string[]): Set<string> {
  const needed = new Set<string>();
  const find = (from: string, name: string): string | undefined => {
    for (let dir = from; ;) {
      const candidate = dir ? `${dir}/node_modules/${name}` : `node_modules/${name}`;
      if (packages[candidate]) return candidate;
      if (!dir) return undefined;
      const up = dir.lastIndexOf('/node_modules/');
      dir = up === -1 ? '' : dir.slice(0, up);
    }
  };
  const visit = (location: string): void => {
    const entry = packages[location];
    if (!entry || needed.has(location)) return;
    needed.add(location);
    if (entry.link && entry.resolved) {
      visit(entry.resolved);
      return;
    }
    const names = Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies });
    for (const name of names) {
      const found = find(location, name);
      if (found) visit(found); // an optional peer nobody installs, or another platform's binary
    }
  };
  // From each workspace's link in node_modules, which the install makes too.
  for (const [location, entry] of Object.entries(packages)) {
    if (entry.link && entry.resolved && workspaces.includes(entry.resolved)) visit(location);
  }
  return needed;
}

let context: string;
let urls: ServiceUrls;
const prefix = randomPrefix('image');

before(async () => {
  urls = await requireServices('rabbitmq', 'redis', 'postgres');
  context = mkdtempSync(join(tmpdir(), 'nightshift-image-'));
  // The files `COPY . .` takes: tracked and untracked-but-not-ignored ones (node_modules, logs and .env are ignored both by git and by the dockerignore).
  const listed = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(listed.status, 0, listed.stderr);
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    if (!existsSync(join(REPO_ROOT, file))) continue; // deleted in the working tree
    mkdirSync(dirname(join(context, file)), { recursive: true });
    cpSync(join(REPO_ROOT, file), join(context, file));
  }
  const steps = installSteps();
  const install = spawnSync('sh', ['-c', steps.join(' && ')], {
    cwd: context, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' }, timeout: 300_000,
  });
  assert.equal(install.status, 0, `${steps.join(' && ')} failed:\n${install.stdout}${install.stderr}`);
});

after(async () => {
  if (urls) await removePrefix(urls, prefix);
  if (context) rmSync(context, { recursive: true, force: true });
});

test('the production install holds what the services, the CLI and the example app need, and nothing else', () => {
  for (const name of NOT_IN_IMAGE) {
    assert.ok(!existsSync(join(context, 'node_modules', name)), `${name} is installed in the image`);
  }
  const lock = JSON.parse(readFileSync(join(context, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const needed = runtimeLocations(lock.packages, RUNTIME_WORKSPACES);
  const extra = Object.keys(lock.packages)
    .filter((location) => location.includes('node_modules/') && !needed.has(location) && existsSync(join(context, location)));
  assert.deepEqual(extra, [], 'installed, but no runtime workspace depends on them');
});

test('every service starts from the entry point with production dependencies only, passes the HEALTHCHECK, and stops on SIGTERM', { timeout: 120_000 }, async () => {
  // The image's Node 24 is the one running this test; PATH puts it first, as it is the only one in the image.
  const path = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
  const started: { service: Service; child: ChildProcess; env: NodeJS.ProcessEnv; output: string[] }[] = [];
  try {
    for (const service of SERVICES) {
      const env: NodeJS.ProcessEnv = {
        PATH: path, HOME: process.env.HOME, NODE_ENV: 'production',
        NIGHTSHIFT_AMQP_URL: urls.amqpUrl, NIGHTSHIFT_REDIS_URL: urls.redisUrl, NIGHTSHIFT_DATABASE_URL: urls.databaseUrl,
        NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix, NIGHTSHIFT_LOG_LEVEL: 'warn',
        NIGHTSHIFT_METRICS_PORT: String(await freePort()), NIGHTSHIFT_HTTP_PORT: String(await freePort()), NIGHTSHIFT_HTTP_HOST: '127.0.0.1',
      };
      const child = spawn('sh', ['deploy/docker/entrypoint.sh', service], { cwd: context, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const output: string[] = [];
      child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
      child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
      started.push({ service, child, env, output });
    }
    for (const { service, child, env, output } of started) {
      const deadline = Date.now() + 45_000;
      for (;;) {
        assert.equal(child.exitCode, null, `${service} exited ${child.exitCode}:\n${output.join('').slice(-3000)}`);
        // In a container the script finds its service among the processes; here several run, so it is named.
        const probe = spawnSync(process.execPath, ['deploy/docker/healthcheck.ts', '--service', service], { cwd: context, env, encoding: 'utf8' });
        if (probe.status === 0) break;
        assert.ok(Date.now() < deadline, `${service} never passed the HEALTHCHECK: ${probe.stdout}${probe.stderr}\n${output.join('').slice(-3000)}`);
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    }
    for (const { service, child, output } of started) {
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      assert.equal(await exit, 0, `${service} did not stop cleanly on SIGTERM:\n${output.join('').slice(-3000)}`);
    }
  } finally {
    for (const { child } of started) if (child.exitCode === null) child.kill('SIGKILL');
  }
});
