import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '@nightshift/core';
import { Broker, brokerOptions } from '@nightshift/broker';
import { randomPrefix, requireServices } from '@nightshift/test-helpers';
import { createBeatCommand } from '../src/commands/beat.ts';
import { main } from '../src/main.ts';
import { tempRepo } from './temp-repo.ts';
import { testIo } from './test-io.ts';

const APP = join(import.meta.dirname, 'fixtures', 'app.ts');
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup().catch(() => {});
});

test('nightshift beat runs the beat service, which leads, and stops it cleanly on Ctrl-C', { timeout: 30_000 }, async () => {
  const { amqpUrl, redisUrl } = await requireServices('rabbitmq', 'redis');
  const env = { NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_PREFIX: randomPrefix('cli-beat'), NIGHTSHIFT_METRICS_PORT: '0', PATH: process.env.PATH };
  cleanups.push(async () => {
    const redis = new Redis(redisUrl);
    await redis.del(`${env.NIGHTSHIFT_PREFIX}:beat:last-run`, `${env.NIGHTSHIFT_PREFIX}:beat:lease`);
    redis.disconnect();
    const broker = await Broker.connect(brokerOptions(loadConfig(env), 'cli-beat-cleanup'));
    await broker.ensureQueue('default');
    await broker.deleteTopology();
    await broker.close();
  });
  const io = testIo({ env });
  const running = main(['beat', '--app', APP], io, [createBeatCommand({ duplicateSignalWindowMs: 0 })]);
  // A failure below must not leave beat running: its stdin pipe would keep this file's process, and the run, alive.
  let ended = false;
  void running.finally(() => { ended = true; });
  cleanups.unshift(async () => {
    if (ended) return;
    io.interrupt('SIGINT');
    await running;
  });
  await io.stdout.waitFor(/"msg":"leader: dispatching 1 schedule entries"/, 20_000);
  assert.match(io.stdout.text, /"msg":"entry ping: every 5 minutes, UTC; next /);
  io.interrupt('SIGINT');
  assert.equal(await running, 0, io.stderr.text);
  assert.match(io.stdout.text, /"signal":"SIGTERM","msg":"stopping"/);
});

test('nightshift beat checks the app before it starts anything', async () => {
  const io = testIo();
  assert.equal(await main(['beat'], io, [createBeatCommand()]), 2);
  assert.match(io.stderr.text, /"nightshift beat" needs --app <path>/);
  const missing = testIo();
  assert.equal(await main(['beat', '--app', 'nope.ts'], missing, [createBeatCommand()]), 2);
  assert.match(missing.stderr.text, /--app nope.ts: no such file/);
  const badSchedule = testIo();
  assert.equal(await main(['beat', '--app', join(import.meta.dirname, 'fixtures', 'schedule-bad-app.ts')], badSchedule, [createBeatCommand()]), 2);
  assert.match(badSchedule.stderr.text, /^error: 2 of 3 schedule entries of app "schedule-bad-fixture" are invalid, so beat was not started:\n {2}schedule\[1\] "nightly" "0 25 \* \* \*": hour "25" has 25, outside 0-23\n {2}schedule\[2\] "often": /);
});

test('a service that cannot run is an error main prints, as JSON with --json', async (t) => {
  const repoRoot = await tempRepo(t);
  const plain = testIo();
  assert.equal(await main(['beat', '--app', APP], plain, [createBeatCommand({ repoRoot })]), 1);
  assert.equal(plain.stderr.text, 'error: beat is not there yet (issue #4: services/beat)\n');
  const json = testIo();
  assert.equal(await main(['beat', '--app', APP, '--json'], json, [createBeatCommand({ repoRoot })]), 1);
  assert.deepEqual(json.stderr.records(), [{ error: { code: 'E_SERVICE_MISSING', message: 'beat is not there yet (issue #4: services/beat)', hint: null } }]);

  const withBeat = await tempRepo(t, { beat: 'setInterval(() => {}, 1000);' });
  const unstartable = testIo();
  assert.equal(await main(['beat', '--app', APP, '--json'], unstartable, [createBeatCommand({ repoRoot: withBeat, nodePath: '/nonexistent/node' })]), 1);
  assert.deepEqual(unstartable.stderr.records(), [{ error: { code: 'E_SERVICE_START', message: 'could not start beat: spawn /nonexistent/node ENOENT', hint: null } }]);
});
