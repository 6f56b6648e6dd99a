// What the image runs, without Docker: the build context (the repository less deploy/Dockerfile.dockerignore),
// `npm ci --omit=dev` as the dependencies stage does it, then each service through the image's entry point
// with NODE_ENV=production, probed by the image's HEALTHCHECK script and stopped with SIGTERM as `docker
// stop` does. A service that imports a devDependency, an entry point that loses a flag, or a healthcheck
// that cannot see its service fails here.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, randomPrefix, removePrefix, requireServices, type ServiceUrls } from '@nightshift/test-helpers';
import { REPO_ROOT } from '../tools.ts';

const SERVICES = ['worker', 'beat', 'alerter', 'health-api'] as const;
type Service = (typeof SERVICES)[number];

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
  const install = spawnSync('npm', ['ci', '--omit=dev', '--no-audit', '--no-fund'], {
    cwd: context, encoding: 'utf8', env: { ...process.env, NODE_ENV: 'production' }, timeout: 300_000,
  });
  assert.equal(install.status, 0, `npm ci --omit=dev failed:\n${install.stdout}${install.stderr}`);
});

after(async () => {
  if (urls) await removePrefix(urls, prefix);
  if (context) rmSync(context, { recursive: true, force: true });
});

// testcontainers stays: @nightshift/testing, a workspace users install for their suites, depends on it, and
// npm installs every workspace's production dependencies.
test('the production install leaves the tools out', () => {
  for (const tool of ['typescript', 'eslint', 'turbo', 'playwright-core', 'node']) {
    assert.ok(!existsSync(join(context, 'node_modules', tool)), `${tool} is installed in the image`);
  }
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
