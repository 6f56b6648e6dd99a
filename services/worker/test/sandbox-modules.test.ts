// What a thread sandbox loads before it says it is ready: every module is start-up time of the worker and of
// the sandbox that replaces a killed one. OpenTelemetry's API alone was a third of them (51 of 145), pulled in
// by the task logger, though nothing traces inside a sandbox; the task logger itself (pino, and `node:module` for
// its transports) is loaded when a task first writes a line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker as Thread } from 'node:worker_threads';
import type { TaskEnvelope } from '@nightshift/core';
import type { SandboxJob } from '../src/run-task.ts';
import type { FromSandbox, ToSandbox } from '../src/sandbox-protocol.ts';
import { appPath } from './support.ts';

const entry = new URL('../src/sandbox-entry.ts', import.meta.url);

// The sandbox's own entry, behind a module hook that notes every module loaded in the thread from its start.
const counted = `
import { registerHooks } from 'node:module';
import { parentPort } from 'node:worker_threads';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
parentPort.on('message', (message) => { if (message === 'loaded?') parentPort.postMessage({ loaded: [...loaded] }); });
await import(${JSON.stringify(entry.href)});
`;

function chattyJob(id: string): SandboxJob {
  const envelope: TaskEnvelope = {
    v: 1, id, task: 'chatty', args: [2, false], kwargs: {}, attempt: 1, maxAttempts: 2, queue: 'default',
    sentAt: new Date().toISOString(), origin: { type: 'producer', producer: 'test' },
  };
  return { envelope, worker: 'test', delivery: { redelivered: false, deliveryCount: 0 } };
}

test('a sandbox is ready with the app and without OpenTelemetry or its task logger; the logger is loaded when a task first writes a line', async () => {
  const thread = new Thread(new URL(`data:text/javascript,${encodeURIComponent(counted)}`), { workerData: { appPath, logLevel: 'warn' } });
  const messages: Array<FromSandbox | { loaded: string[] }> = [];
  let heard: () => void = () => {};
  thread.on('message', (message: FromSandbox | { loaded: string[] }) => {
    messages.push(message);
    heard();
  });
  const next = async <T>(match: (message: FromSandbox | { loaded: string[] }) => T | undefined): Promise<T> => {
    for (;;) {
      for (const [index, message] of messages.entries()) {
        const found = match(message);
        if (found !== undefined) {
          messages.splice(index, 1);
          return found;
        }
      }
      await new Promise<void>((resolve, reject) => {
        heard = resolve;
        thread.once('error', reject);
      });
    }
  };
  const modules = async () => {
    thread.postMessage('loaded?');
    return next((message) => ('loaded' in message ? message.loaded : undefined));
  };
  try {
    await next((message) => ('type' in message && message.type === 'ready' ? true : undefined));
    const atReady = await modules();
    assert.ok(atReady.some((url) => url.endsWith('/fixtures/app.ts')), 'the app is loaded');
    assert.deepEqual(atReady.filter((url) => url.includes('/pino/')), [], 'no task logger before a task writes a line');
    assert.deepEqual(atReady.filter((url) => url.includes('opentelemetry')), []);

    thread.postMessage({ type: 'run', jobs: [chattyJob('logs-a-warning')] } satisfies ToSandbox);
    const done = await next((message) => ('type' in message && message.type === 'done' ? message : undefined));
    assert.equal(done.result.ok, true);
    assert.equal(done.result.logs?.lines.length, 1, 'its warning is kept for its run (the info line is below the level)');
    // The logger loads in the background: asked again until it is there (the test's timeout bounds the wait).
    let afterLine = await modules();
    while (!afterLine.some((url) => url.includes('/pino/'))) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      afterLine = await modules();
    }
    assert.deepEqual(afterLine.filter((url) => url.includes('opentelemetry')), []);
  } finally {
    await thread.terminate();
  }
});
