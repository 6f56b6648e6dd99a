// What a thread sandbox loads before it says it is ready: every module is start-up time of the worker and of
// the sandbox that replaces a killed one. OpenTelemetry's API alone was a third of them (51 of 145), pulled in
// by the task logger, though nothing traces inside a sandbox.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Worker as Thread } from 'node:worker_threads';
import { appPath } from './support.ts';

const entry = new URL('../src/sandbox-entry.ts', import.meta.url);

// The sandbox's own entry, behind a module hook that notes every module loaded in the thread from its start.
const counted = `
import { registerHooks } from 'node:module';
import { parentPort } from 'node:worker_threads';
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
parentPort.on('message', (message) => { if (message === 'loaded?') parentPort.postMessage({ loaded }); });
await import(${JSON.stringify(entry.href)});
`;

test('a sandbox loads the app and its task logger without OpenTelemetry (a task\'s trace ids come with the task)', async () => {
  const thread = new Thread(new URL(`data:text/javascript,${encodeURIComponent(counted)}`), { workerData: { appPath, logLevel: 'info' } });
  try {
    const loaded = await new Promise<string[]>((resolve, reject) => {
      thread.on('error', reject);
      thread.on('message', (message: { type?: string; loaded?: string[] }) => {
        if (message.type === 'ready') thread.postMessage('loaded?');
        else if (message.loaded) resolve(message.loaded);
      });
    });
    assert.ok(loaded.some((url) => url.endsWith('/fixtures/app.ts')), 'the app is loaded');
    assert.ok(loaded.some((url) => url.includes('/pino/')), 'the task logger is loaded');
    assert.deepEqual(loaded.filter((url) => url.includes('opentelemetry')), []);
  } finally {
    await thread.terminate();
  }
});
