// Nightshift as a team adopts it, proven from outside the repository: the published packages are built and
// packed; each tarball holds only what runs (and publint and arethetypeswrong agree); then fresh projects in the
// system's temp folder (not under this repository, so nothing resolves to the workspaces) install the tarballs,
// their dependencies from the registry or npm's cache, and use them as a user would: a JavaScript app, and the
// TypeScript project `nightshift init` writes. No NODE_OPTIONS source condition reaches them (user-project.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, test } from 'node:test';
import { connect } from 'amqplib';
import { loadConfig } from '@nightshift/core';
import { createClient } from '@nightshift/broker';
import { OutcomeTracker } from '@nightshift/testing';
import { randomPrefix, requireServices, type ServiceUrls } from '@nightshift/test-helpers';
import { buildAndPack, manifestProblems, REPO_ROOT, unexpectedFiles, type Tarball } from './tarballs.ts';
import { run, start } from './user-project.ts';

const scratch = mkdtempSync(join(tmpdir(), 'nightshift-adoption-'));
let tarballs: Tarball[] = [];
let urls: ServiceUrls;

before(async () => {
  assert.ok(relative(REPO_ROOT, scratch).startsWith('..'), `${scratch} is outside the repository`);
  urls = await requireServices('rabbitmq');
  const started = Date.now();
  tarballs = buildAndPack(scratch);
  process.stderr.write(`build and pack: ${Date.now() - started} ms\n`);
});
after(() => rmSync(scratch, { recursive: true, force: true }));

/** The contents of a file in a tarball, unpacked once into the scratch folder (`tar`, on every machine npm runs on). */
function tarFile(tarball: Tarball, file: string): string {
  const dir = join(scratch, 'unpacked', tarball.name);
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true });
    run(scratch, 'tar', ['-xzf', tarball.path, '-C', dir]);
  }
  return readFileSync(join(dir, 'package', file), 'utf8');
}

test('each tarball holds only what runs, and its package.json names no workspace', () => {
  const published = new Map(tarballs.map((t) => [t.name, t.version]));
  assert.ok(['core', 'schedule', 'broker', 'cli', 'testing', 'worker', 'beat', 'alerter', 'health-api'].every((p) => published.has(`@nightshift/${p}`)), [...published.keys()].join(', '));
  for (const tarball of tarballs) {
    assert.deepEqual(unexpectedFiles(tarball), [], `${tarball.name} holds files no user needs`);
    const manifest = JSON.parse(tarFile(tarball, 'package.json'));
    assert.deepEqual(manifestProblems(manifest, tarball, published), [], `${tarball.name}'s package.json`);
    const code = tarball.files.filter((f) => /\.(?:js|d\.ts|json|md)$/.test(f)).map((f) => tarFile(tarball, f)).join('\n');
    assert.ok(!code.includes(REPO_ROOT), `${tarball.name} names the repository's path ${REPO_ROOT}`);
  }
});

test('publint and arethetypeswrong find nothing wrong with any tarball', async () => {
  const bin = (name: string) => join(REPO_ROOT, 'node_modules', '.bin', name);
  // In parallel: each loads TypeScript, which takes longer than the check.
  const checks = tarballs.flatMap((tarball) => [
    [bin('publint'), ['run', '--strict', tarball.path]],
    // ESM only, for Node >= 24: CommonJS `require` and node10 resolution are not offered.
    [bin('attw'), ['--profile', 'esm-only', '--no-color', '--format', 'ascii', tarball.path]],
  ] as const).map(async ([command, args]) => {
    const child = spawn(command, args, { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
    const [code] = await once(child, 'exit');
    return { command: `${command.split('/').at(-1)} ${args.join(' ')}`, code, output };
  });
  for (const result of await Promise.all(checks)) {
    assert.equal(result.code, 0, `${result.command}:\n${result.output}`);
    if (result.command.startsWith('publint')) assert.match(result.output, /All good!/, result.output);
  }
});

/** Every tarball as a `file:` dependency: unpublished, the @nightshift packages cannot come from the registry. */
function tarballDependencies(except: readonly string[] = []): Record<string, string> {
  return Object.fromEntries(tarballs.filter((t) => !except.includes(t.name)).map((t) => [t.name, `file:${t.path}`]));
}

/** Runs `npx nightshift worker --app <app>`, sends one task with the user's own script on the published client, and returns how it ended. */
async function runOnWorker(project: string, app: string, sendScript: string, task: string) {
  const prefix = randomPrefix('adoption');
  const env = { NIGHTSHIFT_AMQP_URL: urls.amqpUrl, NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_METRICS_PORT: '0' };
  // Events are watched from here (the repository's own client) before anything is sent.
  const watcher = await createClient(loadConfig(env), { name: 'adoption-watcher' });
  const connection = await connect(urls.amqpUrl);
  const tracker = await OutcomeTracker.open(watcher.broker, await connection.createChannel());
  const worker = start(project, 'npx', ['nightshift', 'worker', '--app', app], env);
  try {
    await worker.waitFor(/"msg":"worker ready"/);
    const id = run(project, 'node', [sendScript], { env }).stdout.trim();
    assert.match(id, /^[\w-]{8,}$/, `${sendScript} prints the id it sent`);
    const outcome = await tracker.outcome(id, 30_000);
    assert.equal(outcome.status, 'succeeded', `${task}: ${JSON.stringify(outcome)}\n${worker.output}`);
    return outcome;
  } finally {
    const stopped = await worker.stop();
    await connection.close();
    // What the worker declared under this prefix goes with the client that knows the app's queue.
    await watcher.broker.ensureQueue('default');
    await watcher.broker.deleteTopology();
    await watcher.close();
    // The worker stopped as it does on SIGTERM, by itself, within the grace.
    assert.equal(stopped.killed, false, worker.output);
    assert.match(worker.output, /"msg":"stopping gracefully/);
  }
}

const JS_APP = `import { defineApp, defineTask } from '@nightshift/core';
import { crontab } from '@nightshift/schedule';

export const add = defineTask({
  name: 'math.add',
  async run(ctx, a, b) {
    return a + b;
  },
});

export default defineApp({
  name: 'plain-js',
  tasks: [add],
  schedule: [{ name: 'nightly-sum', task: 'math.add', schedule: crontab({ minute: 0, hour: 3 }), args: [1, 2] }],
});
`;

const JS_SEND = `import { loadConfig } from '@nightshift/core';
import { createClient } from '@nightshift/broker';
import app, { add } from './app.js';

const client = await createClient(loadConfig(), { app, name: 'plain-js' });
console.log(await client.send(add, [20, 22]));
await client.close();
`;

const JS_TEST = `import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTestbed, ScheduleClock } from '@nightshift/testing';
import app, { add } from './app.js';

const bed = await createTestbed({ app: new URL('./app.js', import.meta.url) });
after(() => bed.close());
await bed.startWorker();

test('add adds', async () => {
  const outcome = await bed.run(add, [2, 3]);
  assert.equal(outcome.status, 'succeeded');
  assert.equal(outcome.result, 5);
});

test('the sum runs nightly', () => {
  assert.equal(new ScheduleClock(app, '2026-01-01T00:00:00Z').advance('2d').length, 2);
});
`;

const jsProject = join(scratch, 'plain-js');

test('a plain JavaScript app: installs, explains its schedule, runs a task on the worker, passes its own tests', async () => {
  mkdirSync(jsProject);
  writeFileSync(join(jsProject, 'package.json'), `${JSON.stringify({
    name: 'plain-js', private: true, type: 'module',
    dependencies: tarballDependencies(['@nightshift/testing']),
    devDependencies: { '@nightshift/testing': tarballDependencies()['@nightshift/testing'] },
  }, null, 2)}\n`);
  writeFileSync(join(jsProject, 'app.js'), JS_APP);
  writeFileSync(join(jsProject, 'send.js'), JS_SEND);
  writeFileSync(join(jsProject, 'app.test.js'), JS_TEST);
  run(jsProject, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund']);

  const explained = run(jsProject, 'npx', ['nightshift', 'schedule', 'explain', '--app', 'app.js']).stdout;
  assert.match(explained, /^app "plain-js": 1 schedule entry, time zone UTC$/m);
  assert.match(explained, /^nightly-sum → math\.add\(1, 2\)$/m);

  const outcome = await runOnWorker(jsProject, 'app.js', 'send.js', 'math.add');
  assert.equal(outcome.status === 'succeeded' && outcome.result, 42);

  const tests = run(jsProject, 'node', ['--test', 'app.test.js'], { env: { NIGHTSHIFT_AMQP_URL: urls.amqpUrl } }).stdout;
  assert.match(tests, /^ℹ pass 2$/m);
});

test('nightshift init writes a TypeScript project that type-checks, explains, runs and tests as it says', async () => {
  const project = join(scratch, 'starter');
  const initialized = run(jsProject, 'npx', ['nightshift', 'init', project]).stdout;
  assert.match(initialized, /wrote package\.json, app\.ts, app\.test\.ts, tsconfig\.json, Dockerfile, docker-compose\.yml/);
  const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
  const version = tarballs.find((t) => t.name === '@nightshift/cli')?.version;
  for (const name of Object.keys(manifest.dependencies)) assert.equal(manifest.dependencies[name], version, `package.json: ${name}`);
  assert.equal(manifest.devDependencies['@nightshift/testing'], version);
  // The registry has no @nightshift packages yet: the same names, from the tarballs.
  const local = tarballDependencies();
  manifest.dependencies = { ...local, ...Object.fromEntries(Object.keys(manifest.dependencies).map((n) => [n, local[n]])) };
  delete manifest.dependencies['@nightshift/testing'];
  manifest.devDependencies['@nightshift/testing'] = local['@nightshift/testing'];
  writeFileSync(join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(join(project, 'send.ts'), `import { loadConfig } from '@nightshift/core';
import { createClient } from '@nightshift/broker';
import app, { greet } from './app.ts';

const client = await createClient(loadConfig(), { app, name: 'starter' });
console.log(await client.send(greet, ['outside']));
await client.close();
`);
  run(project, 'npm', ['install', '--prefer-offline', '--no-audit', '--no-fund']);

  run(project, 'npm', ['run', 'typecheck']);
  // The published types still check a send's arguments against the task's run.
  writeFileSync(join(project, 'wrong.ts'), `import { createClient } from '@nightshift/broker';
import { loadConfig } from '@nightshift/core';
import app, { greet } from './app.ts';

const client = await createClient(loadConfig(), { app });
await client.send(greet, [42]);
`);
  const wrong = run(project, 'npx', ['tsc'], { expectFailure: true }).stdout;
  assert.match(wrong, /^wrong\.ts\(6,14\): error TS2769: No overload matches this call\.$/m);
  assert.match(wrong, /^ {4}Type 'number' is not assignable to type 'string'\.$/m);
  assert.equal(wrong.match(/error TS/g)?.length, 1, wrong);
  rmSync(join(project, 'wrong.ts'));

  const explained = run(project, 'npx', ['nightshift', 'schedule', 'explain', '--app', 'app.ts']).stdout;
  assert.match(explained, /^hourly-greeting → greetings\.send\("world"\)$/m);

  const outcome = await runOnWorker(project, 'app.ts', 'send.ts', 'greetings.send');
  assert.equal(outcome.status === 'succeeded' && outcome.result, 'hello, outside');

  const tests = run(project, 'npm', ['test'], { env: { NIGHTSHIFT_AMQP_URL: urls.amqpUrl } }).stdout;
  assert.match(tests, /^ℹ pass 2$/m);
});
