// A team's own image, built FROM Nightshift's with its app outside this repository's tree: the Dockerfile and
// compose file that `nightshift init` writes, into a temp folder, read as Docker would read them. No Docker
// engine runs here, so this is static, like dockerfile.test.ts: the entry point it relies on is run there, and
// the app itself runs from an install outside the repository in test/adoption.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, test } from 'node:test';
import { parse } from 'yaml';
import { expectSuccess, has, REPO_ROOT, run } from './tools.ts';

const NIGHTSHIFT_BIN = join(REPO_ROOT, 'packages', 'cli', 'bin', 'nightshift.js');
const project = join(mkdtempSync(join(tmpdir(), 'nightshift-user-image-')), 'my-app');
after(() => rmSync(join(project, '..'), { recursive: true, force: true }));
expectSuccess(run(process.execPath, [NIGHTSHIFT_BIN, 'init', project]), 'nightshift init');
const version = (JSON.parse(readFileSync(join(REPO_ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as { version: string }).version;

/** The Dockerfile's instructions, continuation lines joined and comments dropped. */
function instructions(text: string): { keyword: string; args: string }[] {
  return text.split('\n').filter((line) => !/^\s*#/.test(line)).join('\n').replace(/\\\n/g, ' ')
    .split('\n').map((line) => line.trim()).filter(Boolean).map((line) => {
      const [keyword = '', ...rest] = line.split(/\s+/);
      return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
    });
}

test('the app is outside the repository', () => {
  assert.ok(relative(REPO_ROOT, project).startsWith('..'), project);
});

test('its Dockerfile builds on the Nightshift image of the same version and runs the app from /app/user as node', () => {
  const steps = instructions(readFileSync(join(project, 'Dockerfile'), 'utf8'));
  assert.deepEqual(steps.slice(0, 3), [
    { keyword: 'ARG', args: `BASE_IMAGE=nightshift:${version}` },
    { keyword: 'FROM', args: '${BASE_IMAGE}' },
    { keyword: 'WORKDIR', args: '/app/user' },
  ]);
  assert.equal(steps.filter((s) => s.keyword === 'USER').at(-1)?.args, 'node');
  // The app's own production dependencies, and not a second copy of Nightshift beside the image's.
  const install = steps.find((s) => s.keyword === 'RUN')?.args ?? '';
  assert.match(install, /npm (?:install|ci) --omit=dev/);
  assert.match(install, /rm -rf node_modules\/@nightshift/);
  assert.deepEqual(steps.at(-1), { keyword: 'CMD', args: '["worker", "--app", "/app/user/app.ts"]' });
  // The image's entry point takes the app by the path this names (dockerfile.test.ts runs it so).
  assert.match(readFileSync(join(REPO_ROOT, 'deploy', 'docker', 'entrypoint.sh'), 'utf8'), /--app \| --app=\*\) has_app=yes/);
});

interface ComposeService { image?: string; build?: string; command?: string[]; environment?: Record<string, string>; depends_on?: Record<string, unknown> }

test('its compose file runs every service on that image with RabbitMQ, Redis and PostgreSQL', () => {
  // Compose applies YAML merge keys (<<: *nightshift), as the yaml package does when asked.
  const compose = parse(readFileSync(join(project, 'docker-compose.yml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
  for (const service of ['worker', 'beat', 'alerter', 'health-api']) {
    const spec = compose.services[service];
    assert.equal(spec?.build, '.', `${service} is built from the app's Dockerfile`);
    assert.deepEqual(spec?.command, [service, '--app', '/app/user/app.ts']);
    assert.deepEqual(Object.keys(spec?.depends_on ?? {}).sort(), ['postgres', 'rabbitmq', 'redis']);
    assert.match(spec?.environment?.NIGHTSHIFT_AMQP_URL ?? '', /@rabbitmq:5672/);
    assert.match(spec?.environment?.NIGHTSHIFT_REDIS_URL ?? '', /\/\/redis:6379/);
    assert.match(spec?.environment?.NIGHTSHIFT_DATABASE_URL ?? '', /@postgres:5432\//);
  }
  assert.match(compose.services.rabbitmq?.image ?? '', /^rabbitmq:/);
  assert.match(compose.services.redis?.image ?? '', /^redis:/);
  assert.match(compose.services.postgres?.image ?? '', /^postgres:/);
});

test('docker-compose config accepts it', { skip: !has('docker-compose', ['version']) && !has('docker', ['compose', 'version']) && 'neither docker-compose nor docker compose is installed' }, () => {
  const [tool, args] = has('docker-compose', ['version'])
    ? ['docker-compose', ['config', '-q']] as const
    : ['docker', ['compose', 'config', '-q']] as const;
  expectSuccess(run(tool, args, { cwd: project }), `${tool} config`);
});
