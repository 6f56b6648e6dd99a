import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { test } from 'node:test';
import { ConfigError, defineApp, defineTask } from '@nightshift/core';
import { compileWorkerOptions, loadWorkerConfig } from '@nightshift/worker';

function recorder() {
  const warnings: string[] = [];
  const log = { debug() {}, info() {}, error() {}, warn: (_o: object | string, msg?: string) => { warnings.push(msg ?? String(_o)); } };
  return { log, warnings };
}
const run = () => 1;

test('limits: task over app over global defaults; queues default to the tasks\' queues', () => {
  const app = defineApp({
    name: 'a', defaults: { softTimeLimit: '1m', timeLimit: '2m' },
    tasks: [defineTask({ name: 'x', queue: 'q1', timeLimit: '90s', run }), defineTask({ name: 'y', run })],
  });
  const { log, warnings } = recorder();
  const options = compileWorkerOptions(app, { appPath: 'app.ts' }, loadWorkerConfig({}), log);
  assert.deepEqual(options.queues, ['q1', 'default']);
  assert.equal(options.tasks.get('x')?.timeLimitMs, 90_000);
  assert.equal(options.tasks.get('y')?.softTimeLimitMs, 60_000);
  assert.deepEqual(warnings, []);
});

test('start-up refuses a hard limit that is not above the soft limit, naming the task', () => {
  const app = defineApp({ name: 'a', tasks: [defineTask({ name: 'reports.build', softTimeLimit: '30s', timeLimit: '30s', run })] });
  assert.throws(() => compileWorkerOptions(app, { appPath: 'app.ts' }, loadWorkerConfig({}), recorder().log), (error: unknown) =>
    error instanceof ConfigError && /task "reports\.build": its hard time limit \(30s\) must be above its soft time limit \(30s\)/.test(error.message));
});

test('a hard limit at or above the broker consumer timeout is refused with how to raise it', () => {
  const app = defineApp({ name: 'a', tasks: [defineTask({ name: 'etl', softTimeLimit: '20m', timeLimit: '40m', run })] });
  assert.throws(() => compileWorkerOptions(app, { appPath: 'app.ts' }, loadWorkerConfig({}), recorder().log),
    /task "etl": its hard time limit \(40m\) reaches RabbitMQ's consumer timeout \(30m\).*raise consumer_timeout in rabbitmq\.conf and set NIGHTSHIFT_CONSUMER_TIMEOUT/);
  assert.doesNotThrow(() => compileWorkerOptions(app, { appPath: 'app.ts' }, loadWorkerConfig({ NIGHTSHIFT_CONSUMER_TIMEOUT: '1h' }), recorder().log));
});

test('warns once for each task relying on the global default limits, and that inline cannot kill', () => {
  const app = defineApp({ name: 'a', tasks: [defineTask({ name: 'bare', run }), defineTask({ name: 'limited', softTimeLimit: '1s', timeLimit: '2s', run })] });
  const { log, warnings } = recorder();
  compileWorkerOptions(app, { appPath: 'app.ts', pool: 'inline' }, loadWorkerConfig({}), log);
  assert.equal(warnings.filter((w) => w.includes('"bare"')).length, 1);
  assert.ok(!warnings.some((w) => w.includes('"limited"')));
  assert.ok(warnings.some((w) => /inline pool: .*hard limit cannot kill/.test(w)));
});

test('bad flags name themselves', () => {
  const app = defineApp({ name: 'a', tasks: [defineTask({ name: 'x', softTimeLimit: '1s', timeLimit: '2s', run })] });
  assert.throws(() => compileWorkerOptions(app, { appPath: 'a', concurrency: 0 }, loadWorkerConfig({}), recorder().log), /--concurrency: 0 must be a whole number/);
  assert.throws(() => compileWorkerOptions(app, { appPath: 'a', pool: 'forks' as never }, loadWorkerConfig({}), recorder().log), /--pool: "forks" must be "threads" or "inline"/);
  assert.throws(() => compileWorkerOptions(app, { appPath: 'a', queues: ['bad queue'] }, loadWorkerConfig({}), recorder().log), /--queues\[0\]: "bad queue" is not a queue name/);
  assert.throws(() => compileWorkerOptions(app, { appPath: 'a' }, loadWorkerConfig({ NIGHTSHIFT_WORKER_GRACE: 'soon' }), recorder().log), /NIGHTSHIFT_WORKER_GRACE: "soon" is not a duration/);
  assert.throws(() => compileWorkerOptions(app, { appPath: 'a' }, loadWorkerConfig({ NIGHTSHIFT_WORKER_CONCURRENCY: 'many' }), recorder().log), /NIGHTSHIFT_WORKER_CONCURRENCY: "many" must be a whole number/);
});

test('concurrency: the flag, else NIGHTSHIFT_WORKER_CONCURRENCY (for nightshift up and containers), else the CPU count', () => {
  const app = defineApp({ name: 'a', tasks: [defineTask({ name: 'x', softTimeLimit: '1s', timeLimit: '2s', run })] });
  const env = { NIGHTSHIFT_WORKER_CONCURRENCY: '3' };
  assert.equal(compileWorkerOptions(app, { appPath: 'a' }, loadWorkerConfig(env), recorder().log).concurrency, 3);
  assert.equal(compileWorkerOptions(app, { appPath: 'a', concurrency: 5 }, loadWorkerConfig(env), recorder().log).concurrency, 5);
  assert.equal(compileWorkerOptions(app, { appPath: 'a' }, loadWorkerConfig({}), recorder().log).concurrency, availableParallelism());
});

test('prefetch: NIGHTSHIFT_WORKER_PREFETCH messages per sandbox of the starting pool (32), at least 2, and never fewer than the largest pool\'s places', () => {
  const app = defineApp({ name: 'a', tasks: [defineTask({ name: 'x', softTimeLimit: '1s', timeLimit: '2s', run })] });
  assert.equal(compileWorkerOptions(app, { appPath: 'a', concurrency: 2 }, loadWorkerConfig({}), recorder().log).prefetch, 64);
  assert.equal(compileWorkerOptions(app, { appPath: 'a', concurrency: 3 }, loadWorkerConfig({ NIGHTSHIFT_WORKER_PREFETCH: '8' }), recorder().log).prefetch, 24);
  // 2 a sandbox of 3 is 6, but the pool may grow to 6 sandboxes: 12 places.
  assert.equal(compileWorkerOptions(app, { appPath: 'a', concurrency: 3 }, loadWorkerConfig({ NIGHTSHIFT_WORKER_PREFETCH: '2' }), recorder().log).prefetch, 12);
  assert.equal(compileWorkerOptions(app, { appPath: 'a', autoscale: '40,2' }, loadWorkerConfig({}), recorder().log).prefetch, 80, 'autoscale up to 40 sandboxes');
  assert.throws(() => loadWorkerConfig({ NIGHTSHIFT_WORKER_PREFETCH: '1' }), /NIGHTSHIFT_WORKER_PREFETCH: .*2/);
});

test('the worker\'s configuration: NIGHTSHIFT_LOG_LEVEL validated and handed to the sandboxes, every bad variable named at once', () => {
  const app = defineApp({ name: 'a', tasks: [defineTask({ name: 'x', softTimeLimit: '1s', timeLimit: '2s', run })] });
  assert.equal(compileWorkerOptions(app, { appPath: 'a' }, loadWorkerConfig({ NIGHTSHIFT_LOG_LEVEL: 'debug' }), recorder().log).logLevel, 'debug');
  assert.throws(() => loadWorkerConfig({ NIGHTSHIFT_LOG_LEVEL: 'loud', NIGHTSHIFT_HEARTBEAT: 'x', NIGHTSHIFT_PREFIX: 'bad prefix' }), (error: unknown) =>
    error instanceof ConfigError &&
    /^invalid configuration:\n {2}NIGHTSHIFT_PREFIX: .*\n {2}NIGHTSHIFT_LOG_LEVEL: "loud" must be one of trace, debug, info, warn, error, fatal, silent\n {2}NIGHTSHIFT_HEARTBEAT: "x" is not a duration/.test(error.message));
  const flags = compileWorkerOptions(app, { appPath: 'a', grace: '5s', heartbeat: '2s' }, loadWorkerConfig({ NIGHTSHIFT_WORKER_GRACE: '1m', NIGHTSHIFT_HEARTBEAT: '9s' }), recorder().log);
  assert.deepEqual([flags.graceMs, flags.heartbeatMs], [5_000, 2_000], 'a flag wins over its variable');
});

test('autoscale: --autoscale max,min (else NIGHTSHIFT_WORKER_AUTOSCALE) starts at min, feeds up to max; a concurrency outside is refused', () => {
  const app = defineApp({ name: 'a', tasks: [defineTask({ name: 'x', softTimeLimit: '1s', timeLimit: '2s', run })] });
  const scaled = compileWorkerOptions(app, { appPath: 'a', autoscale: '10,3' }, loadWorkerConfig({}), recorder().log);
  assert.deepEqual([scaled.concurrency, scaled.autoscale, scaled.largestPool, scaled.autoscaleKeepaliveMs], [3, { min: 3, max: 10 }, 10, 30_000]);
  const fromEnv = compileWorkerOptions(app, { appPath: 'a' }, loadWorkerConfig({ NIGHTSHIFT_WORKER_AUTOSCALE: '8', NIGHTSHIFT_WORKER_AUTOSCALE_KEEPALIVE: '5s' }), recorder().log);
  assert.deepEqual([fromEnv.concurrency, fromEnv.autoscale, fromEnv.autoscaleKeepaliveMs], [1, { min: 1, max: 8 }, 5_000]);
  const fixed = compileWorkerOptions(app, { appPath: 'a', concurrency: 4 }, loadWorkerConfig({}), recorder().log);
  assert.deepEqual([fixed.autoscale, fixed.largestPool], [undefined, 8], 'off unless asked: a fixed pool, grown by hand up to twice its size');
  assert.throws(() => compileWorkerOptions(app, { appPath: 'a', autoscale: '10,3', concurrency: 12 }, loadWorkerConfig({}), recorder().log), /--concurrency: 12 is outside --autoscale 10,3/);
  assert.throws(() => compileWorkerOptions(app, { appPath: 'a', autoscale: '3,10' }, loadWorkerConfig({}), recorder().log), /--autoscale: "3,10": max \(3\) must be at least min \(10\)/);
  assert.throws(() => loadWorkerConfig({ NIGHTSHIFT_WORKER_AUTOSCALE: 'lots' }), /NIGHTSHIFT_WORKER_AUTOSCALE: "lots" is not "max,min"/);
});
