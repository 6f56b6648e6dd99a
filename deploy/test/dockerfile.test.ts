// No Docker engine runs here: the Dockerfile's structure is checked, and its entry point and
// healthcheck are run for real on the host (with a stand-in `node` for the entry point).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { deployPath, REPO_ROOT, run } from './tools.ts';

interface Instruction { keyword: string; args: string }

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
function instructions(text: string): Instruction[] {
  const joined = text.split('\n').filter((line) => !/^\s*#/.test(line)).join('\n').replace(/\\\n/g, ' ');
  return joined.split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
    const [keyword = '', ...rest] = line.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
}

const dockerfile = instructions(readFileSync(deployPath('Dockerfile'), 'utf8'));
const stages = dockerfile.reduce<Instruction[][]>((all, i) => (i.keyword === 'FROM' ? [...all, [i]] : (all.at(-1)?.push(i), all)), []);
const finalStage = stages.at(-1) ?? [];
const SERVICES = ['worker', 'beat', 'alerter', 'health-api'];

test('multi-stage on Node 24 slim', () => {
  assert.ok(stages.length >= 2, 'at least a dependency stage and a runtime stage');
  const nodeImage = dockerfile.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='))?.args.split('=')[1];
  assert.match(nodeImage ?? '', /^node:24(\.\d+)*-slim/);
  for (const stage of stages) assert.match(stage[0]?.args ?? '', /^\$\{NODE_IMAGE\}( AS \w+)?$/i);
});

test('installs production dependencies only, from the lockfile', () => {
  const runs = dockerfile.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  const installs = runs.flatMap((r) => r.split('&&')).map((c) => c.trim()).filter((c) => /^npm (ci|install|i)\b/.test(c));
  assert.ok(installs.some((c) => /^npm ci\b/.test(c) && c.includes('--omit=dev')), 'npm ci --omit=dev');
  for (const c of installs) {
    assert.ok(/^npm ci\b.*--omit=dev/.test(c) || /^npm install --global\b/.test(c), `an install that may bring dev dependencies: ${c}`);
  }
  assert.ok(existsSync(deployPath('Dockerfile.dockerignore')), 'the build context ignores node_modules');
  assert.match(readFileSync(deployPath('Dockerfile.dockerignore'), 'utf8'), /^\*\*\/node_modules$/m);
});

test('the runtime stage runs as a non-root user, with a HEALTHCHECK and an exec-form entry point', () => {
  const user = finalStage.filter((i) => i.keyword === 'USER').at(-1)?.args;
  assert.ok(user && !/^(root|0)(:|$)/.test(user), `USER ${user}`);
  const healthcheck = finalStage.find((i) => i.keyword === 'HEALTHCHECK')?.args ?? '';
  assert.match(healthcheck, /CMD \["node", "\/app\/deploy\/docker\/healthcheck\.ts"\]/);
  assert.match(finalStage.find((i) => i.keyword === 'ENTRYPOINT')?.args ?? '', /^\["\/app\/deploy\/docker\/entrypoint\.sh"\]$/);
  assert.ok(!finalStage.some((i) => i.keyword === 'RUN' && /npm (ci|install)/.test(i.args)), 'no install in the runtime stage');
});

test('the entry point maps each service to node (sources condition) services/<name>/src/main.ts with exec, and passes the rest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nightshift-entrypoint-'));
  try {
    // A stand-in node that prints how it was called: the entry point must exec it, not fork it.
    writeFileSync(join(dir, 'node'), '#!/bin/sh\necho "pid=$$ cwd=$(pwd) args=$*"\n');
    chmodSync(join(dir, 'node'), 0o755);
    const env = { ...process.env, PATH: `${dir}:${process.env.PATH ?? ''}` };
    for (const service of SERVICES) {
      const result = run('sh', ['-c', 'echo "pid=$$"; exec "$0" "$@"', deployPath('docker', 'entrypoint.sh'), service, '--concurrency', '2'], { env });
      assert.equal(result.status, 0, result.stderr);
      const [shellPid, called] = result.stdout.trim().split('\n');
      assert.equal(called, `${shellPid} cwd=${REPO_ROOT} args=--conditions=nightshift:source services/${service}/src/main.ts --concurrency 2 --app examples/factory/app.ts`);
    }
    const named = run('sh', [deployPath('docker', 'entrypoint.sh'), 'beat', '--app=my/app.ts'], { env });
    assert.match(named.stdout, /args=--conditions=nightshift:source services\/beat\/src\/main\.ts --app=my\/app\.ts$/m);
    // A team's own app, outside the repository's tree (its image's COPY puts it in /app/user): passed on as named.
    const users = run('sh', [deployPath('docker', 'entrypoint.sh'), 'worker', '--app', '/app/user/app.ts'], { env });
    assert.match(users.stdout, /args=--conditions=nightshift:source services\/worker\/src\/main\.ts --app \/app\/user\/app\.ts$/m);
    const flag = run('sh', [deployPath('docker', 'entrypoint.sh'), '--queues', 'x'], { env });
    assert.equal(flag.status, 64);
    assert.match(flag.stderr, /names the service/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const service of SERVICES.filter((s) => s !== 'health-api')) {
    assert.ok(existsSync(join(REPO_ROOT, 'services', service, 'src', 'main.ts')), `services/${service}/src/main.ts`);
  }
});

test('the healthcheck probes /metrics, or /health/live for the health-api, on the configured port', async () => {
  const paths: string[] = [];
  const server: Server = createServer((request, response) => {
    paths.push(request.url ?? '');
    response.statusCode = request.url === '/metrics' || request.url === '/health/live' ? 200 : 404;
    response.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = String((server.address() as AddressInfo).port);
  const check = async (service: string, env: Record<string, string>) => {
    const child = spawn(process.execPath, [deployPath('docker', 'healthcheck.ts'), '--service', service], { env: { ...process.env, ...env } });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    return { code, stderr };
  };
  try {
    assert.equal((await check('worker', { NIGHTSHIFT_METRICS_PORT: port })).code, 0);
    assert.equal((await check('health-api', { NIGHTSHIFT_HTTP_PORT: port })).code, 0);
    assert.deepEqual(paths, ['/metrics', '/health/live']);
    const unknown = await check('scheduler', {});
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown service "scheduler"/);
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
  const down = await check('alerter', { NIGHTSHIFT_METRICS_PORT: port });
  assert.equal(down.code, 1);
  assert.match(down.stderr, /alerter unhealthy/);
});
