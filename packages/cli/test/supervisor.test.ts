import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ServiceOutput } from '../src/service-output.ts';
import { Supervisor, type ServiceSpec, type SupervisorOptions } from '../src/supervisor.ts';
import { Capture, isAlive, waitUntil } from './test-io.ts';

/** A fake service: a Node script given inline. */
function fake(name: string, code: string): ServiceSpec {
  return { name, command: process.execPath, args: ['-e', code] };
}

const STAYS_UP = `setInterval(() => {}, 1000);`;
const STOPS_ON_SIGTERM = `process.on('SIGTERM', () => { console.log('got SIGTERM'); setTimeout(() => process.exit(0), 20); });`;

function supervise(services: readonly ServiceSpec[], options: Partial<SupervisorOptions> & { json?: boolean } = {}) {
  const stdout = new Capture();
  const stderr = new Capture();
  const output = new ServiceOutput({ stdout, stderr, names: services.map((s) => s.name), json: options.json });
  const supervisor = new Supervisor(services, { output, ...options });
  return { supervisor, stdout, stderr };
}

test('every line of each child is printed with its padded name, stdout and stderr apart', async () => {
  const { supervisor, stdout, stderr } = supervise([
    fake('alpha', `${STOPS_ON_SIGTERM} process.stdout.write('first\\nsecond\\npar'); setTimeout(() => console.log('tial'), 30); console.error('alpha complains'); ${STAYS_UP}`),
    fake('beta-longer', `process.on('SIGTERM', () => { process.stdout.write('bye without newline'); process.exit(0); }); console.log('ready'); ${STAYS_UP}`),
  ]);
  try {
    const done = supervisor.start();
    await stdout.waitFor(/alpha +partial/);
    await stdout.waitFor(/beta-longer +ready/);
    await stderr.waitFor(/alpha complains/);
    await supervisor.stop();
    await done;
    const lines = stdout.lines();
    // Prefixes are as wide as the longest name (here beta-longer, 11) plus two.
    for (const line of ['alpha        first', 'alpha        second', 'alpha        partial', 'beta-longer  ready', 'beta-longer  bye without newline', 'alpha        got SIGTERM']) {
      assert.ok(lines.includes(line), `missing ${JSON.stringify(line)} in:\n${stdout.text}`);
    }
    assert.match(stdout.text, /^alpha {8}started \(pid \d+\)$/m);
    assert.deepEqual(stderr.lines(), ['alpha        alpha complains']);
  } finally {
    await supervisor.kill();
  }
});

test('a child that keeps crashing is restarted after growing delays, capped, and says so', async () => {
  const { supervisor, stdout } = supervise([fake('crashy', `console.log('crashing'); process.exit(3);`)], {
    json: true,
    restart: { initialDelayMs: 20, maxDelayMs: 80, resetAfterMs: 60_000 },
  });
  try {
    const started = Date.now();
    void supervisor.start();
    await stdout.waitFor(/("event":"restarting".*){5}/s);
    const elapsed = Date.now() - started;
    await supervisor.stop();
    const restarts = stdout.records().filter((r) => r.event === 'restarting');
    assert.deepEqual(restarts.slice(0, 5).map((r) => r.delayMs), [20, 40, 80, 80, 80]);
    assert.deepEqual(restarts.slice(0, 5).map((r) => r.restarts), [1, 2, 3, 4, 5]);
    assert.ok(restarts.every((r) => r.service === 'crashy' && r.code === 3));
    assert.match(String(restarts[0]?.message), /^exited unexpectedly \(code 3\) after \d+ ms; restarting in 20 ms$/);
    assert.ok(elapsed >= 20 + 40 + 80 + 80, `the waits were honoured (${elapsed}ms)`);
    assert.ok(stdout.records().filter((r) => r.line === 'crashing').length >= 5);
  } finally {
    await supervisor.kill();
  }
});

test('a child that stayed up long enough is restarted after the initial delay again', async () => {
  const { supervisor, stdout } = supervise([fake('flaky', `setTimeout(() => process.exit(1), 60);`)], {
    json: true,
    restart: { initialDelayMs: 10, maxDelayMs: 1_000, resetAfterMs: 40 },
  });
  try {
    void supervisor.start();
    await stdout.waitFor(/("event":"restarting".*){3}/s);
    await supervisor.stop();
    const delays = stdout.records().filter((r) => r.event === 'restarting').map((r) => r.delayMs);
    assert.deepEqual(delays.slice(0, 3), [10, 10, 10]);
  } finally {
    await supervisor.kill();
  }
});

test('a child that exits with a fatal code is not restarted: the others are stopped and start() resolves with why', async () => {
  // broken exits once the test has seen crashy restarted, whichever of the two children started first.
  const gate = join(tmpdir(), `nightshift-supervisor-gate-${process.pid}`);
  const { supervisor, stdout } = supervise([
    fake('broken', `setInterval(() => { if (require('node:fs').existsSync(${JSON.stringify(gate)})) process.exit(2); }, 10);`),
    fake('steady', `${STOPS_ON_SIGTERM} console.log('ready'); ${STAYS_UP}`),
    fake('crashy', `process.exit(3);`),
  ], { fatalExitCodes: { 2: 'a configuration error' }, restart: { initialDelayMs: 10, maxDelayMs: 10 } });
  try {
    const done = supervisor.start();
    await stdout.waitFor(/^crashy {6}exited unexpectedly \(code 3\)/m);
    writeFileSync(gate, '');
    const result = await done;
    assert.deepEqual(result, { killed: [], fatal: { service: 'broken', code: 2, meaning: 'a configuration error', said: undefined } });
    assert.match(stdout.text, /^broken {6}exited with code 2 \(a configuration error\), which a restart cannot fix; it printed nothing; stopping steady(, crashy)?$/m);
    assert.match(stdout.text, /^crashy {6}exited unexpectedly \(code 3\) after \d+ ms; restarting in 10 ms$/m, 'other codes are restarted');
    assert.match(stdout.text, /^steady {6}stopped$/m);
    assert.equal(stdout.text.match(/^broken +started/gm)?.length, 1);
  } finally {
    rmSync(gate, { force: true });
    await supervisor.kill();
  }
});

test('a child that cannot be started at all is retried like one that crashed', async () => {
  const { supervisor, stdout } = supervise([{ name: 'ghost', command: '/nonexistent/nightshift-service', args: [] }], {
    restart: { initialDelayMs: 10, maxDelayMs: 20 },
  });
  try {
    void supervisor.start();
    await stdout.waitFor(/ghost +could not start: spawn \/nonexistent\/nightshift-service ENOENT; restarting in 20 ms/);
    assert.deepEqual(await supervisor.stop(), { killed: [] });
  } finally {
    await supervisor.kill();
  }
});

test('stop() sends SIGTERM to every child, waits for them, and the supervisor resolves', async () => {
  const { supervisor, stdout } = supervise([
    fake('one', `${STOPS_ON_SIGTERM} console.log('ready'); ${STAYS_UP}`),
    fake('two', `${STOPS_ON_SIGTERM} console.log('ready'); ${STAYS_UP}`),
  ], { gracePeriodMs: 5_000 });
  try {
    const done = supervisor.start();
    await stdout.waitFor(/one +ready/);
    await stdout.waitFor(/two +ready/);
    const pids = [...stdout.text.matchAll(/started \(pid (\d+)\)/g)].map((m) => Number(m[1]));
    assert.equal(pids.length, 2);
    const started = Date.now();
    const result = await supervisor.stop();
    assert.ok(Date.now() - started < 5_000, 'no child needed the grace period');
    assert.deepEqual(result, { killed: [] });
    assert.equal(await done, result);
    assert.match(stdout.text, /^one +got SIGTERM$/m);
    assert.match(stdout.text, /^two +got SIGTERM$/m);
    assert.match(stdout.text, /^one +stopped$/m);
    assert.match(stdout.text, /^two +stopped$/m);
    assert.doesNotMatch(stdout.text, /restarting/);
    for (const pid of pids) assert.equal(isAlive(pid), false, `pid ${pid} is gone`);
  } finally {
    await supervisor.kill();
  }
});

test('a child that ignores SIGTERM is killed after the grace period, with its own subprocesses', async () => {
  const stubborn = `
    const { spawn } = require('node:child_process');
    const grandchild = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
    console.log('ready, grandchild ' + grandchild.pid);
    ${STAYS_UP}`;
  const { supervisor, stdout } = supervise([fake('stubborn', stubborn), fake('polite', `${STOPS_ON_SIGTERM} console.log('ready'); ${STAYS_UP}`)], { gracePeriodMs: 300 });
  try {
    void supervisor.start();
    await stdout.waitFor(/stubborn +ready, grandchild \d+/);
    await stdout.waitFor(/polite +ready/);
    const grandchild = Number(/grandchild (\d+)/.exec(stdout.text)?.[1]);
    assert.equal(isAlive(grandchild), true);
    const started = Date.now();
    const result = await supervisor.stop();
    const waited = Date.now() - started;
    assert.deepEqual(result, { killed: ['stubborn'] });
    assert.ok(waited >= 290 && waited < 5_000, `waited the grace period (${waited}ms)`);
    assert.match(stdout.text, /^stubborn +ignoring SIGTERM$/m);
    assert.match(stdout.text, /^stubborn +still running 300 ms after SIGTERM; killing it$/m);
    assert.match(stdout.text, /^stubborn +stopped: it was ended by SIGKILL$/m);
    assert.match(stdout.text, /^polite +stopped$/m);
    await waitUntil(() => !isAlive(grandchild));
  } finally {
    await supervisor.kill();
  }
});

test('kill() ends every child at once', async () => {
  const { supervisor, stdout } = supervise([fake('deaf', `process.on('SIGTERM', () => {}); console.log('ready'); ${STAYS_UP}`)], { gracePeriodMs: 60_000 });
  try {
    void supervisor.start();
    await stdout.waitFor(/deaf +ready/);
    const stopping = supervisor.stop();
    const started = Date.now();
    assert.deepEqual(await supervisor.kill(), { killed: ['deaf'] });
    assert.equal(await stopping, await supervisor.kill());
    assert.ok(Date.now() - started < 5_000);
  } finally {
    await supervisor.kill();
  }
});
