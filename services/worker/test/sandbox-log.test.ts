// A thread sandbox's task logger is loaded on the first line written: lines written while it loads come out in
// order, each stamped with the moment it was logged; lines below the level never load it.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createJsonLogger } from '@nightshift/telemetry/json-logger';
import { SandboxLog, type LoadRootLogger } from '../src/sandbox-log.ts';

function captured(): { readonly lines: Array<Record<string, unknown>>; readonly destination: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { lines, destination };
}

test('lines written while the logger loads come out in order, with their task\'s bindings and the time each was logged', async () => {
  const { lines, destination } = captured();
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let loads = 0;
  const load: LoadRootLogger = async (now) => {
    loads += 1;
    await gate;
    return createJsonLogger({ service: 'worker', level: 'info', now, destination });
  };
  const log = new SandboxLog('info', load);
  const first = log.forTask(() => ({ task_id: 'a' }));
  const second = log.forTask(() => ({ task_id: 'b' }));
  const logged: Array<[number, number]> = [];
  const stamp = (write: () => void) => {
    const before = Date.now();
    write();
    logged.push([before, Date.now()]);
  };
  stamp(() => first.info({ n: 1 }, 'one'));
  await new Promise((resolve) => setTimeout(resolve, 30));
  stamp(() => second.warn('two'));
  stamp(() => first.error({ apiKey: 'sk-live-123' }, 'three'));
  assert.equal(loads, 1, 'one load for every line that waits');
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(lines.length, 0);
  const releasedAt = Date.now();
  release();
  await new Promise((resolve) => setTimeout(resolve, 10));
  first.info('four'); // written at once now
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(lines.map((l) => [l.msg, l.task_id, l.level]), [['one', 'a', 'info'], ['two', 'b', 'warn'], ['three', 'a', 'error'], ['four', 'a', 'info']]);
  logged.forEach(([before, after], i) => {
    const time = Date.parse(String(lines[i]?.time));
    assert.ok(time >= before && time <= after && time < releasedAt, `line ${i + 1} has the time it was logged (${lines[i]?.time}), not the time it was written`);
  });
  assert.ok(Date.parse(String(lines[3]?.time)) >= releasedAt, 'a line written at once has its own time');
  assert.equal(lines[2]?.apiKey, '***', 'redacted as every worker line is');
});

test('lines below the level are dropped without loading the logger', async () => {
  let loads = 0;
  const log = new SandboxLog('warn', async () => {
    loads += 1;
    return { child: () => ({ debug() {}, info() {}, warn() {}, error() {} }) };
  });
  const task = log.forTask(() => ({}));
  task.debug('no');
  task.info({ also: 'no' }, 'no');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(loads, 0);
  assert.equal(log.loaded, false);
  task.warn('yes');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(loads, 1);
  assert.equal(log.loaded, true);
});
