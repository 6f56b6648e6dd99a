import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createLogger, metrics } from '@nightshift/telemetry';
import { startWorker, type StartedWorker } from '@nightshift/worker';
import { doomed, permanent } from './fixtures/app.ts';
import { appPath, harness, type Harness } from './support.ts';

interface Line { level: string; msg: string; task_id?: string; err?: Record<string, unknown>; [field: string]: unknown }

// The worker's own JSON logger (pino), as an operator reads it: the text it writes, not the objects it was given.
const text: string[] = [];
const lines = () => text.map((line) => JSON.parse(line) as Line);
let h: Harness;
let worker: StartedWorker;
before(async () => {
  h = await harness();
  const log = createLogger({ service: 'worker', level: 'info', destination: { write: (line: string) => { text.push(line); } } });
  worker = await startWorker({ appPath, concurrency: 2 }, h.env, log, metrics.getMeter('@nightshift/worker'));
});
after(async () => {
  await worker?.stop({ force: true });
  await h.close();
});

test('a retry line names the error\'s class and message, with no stack; the dead-letter line adds the real stack', async () => {
  const id = await h.client.send(doomed, []);
  await h.waitForEvent((e) => e.type === 'task.dead-lettered' && e.id === id);
  const mine = lines().filter((l) => l.task_id === id);
  const retries = mine.filter((l) => l.level === 'warn' && /^attempt \d of doomed failed \(TypeError\)/.test(l.msg));
  assert.equal(retries.length, 2, JSON.stringify(mine));
  for (const line of retries) assert.deepEqual(line.err, { type: 'TypeError', message: 'always wrong' });
  const dead = mine.find((l) => l.level === 'error' && /failed for good/.test(l.msg))?.err;
  assert.ok(dead, JSON.stringify(mine));
  assert.deepEqual(Object.keys(dead), ['type', 'message', 'stack']);
  assert.equal(dead.type, 'TypeError');
  assert.match(String(dead.stack), /^TypeError: always wrong\n\s+at /, 'the stack from the sandbox, as the dead letter keeps it');
});

test('a permanent error is logged as its class with its code, never as "Object" or with an empty stack', async () => {
  const id = await h.client.send(permanent, []);
  await h.waitForEvent((e) => e.type === 'task.dead-lettered' && e.id === id);
  const dead = lines().find((l) => l.task_id === id && l.level === 'error' && /failed for good/.test(l.msg));
  assert.equal(dead?.err?.type, 'PermanentError', JSON.stringify(dead));
  assert.equal(dead.err.message, 'card declined');
  assert.equal(dead.err.code, 'E_PERMANENT');
  assert.match(String(dead.err.stack), /^PermanentError: card declined\n\s+at /);
  for (const line of text) assert.doesNotMatch(line, /"type":"Object"|"stack":""/, line);
});
