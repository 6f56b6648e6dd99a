// Seeds demo data and runs each task once in this process, printing what it returned:
// `node demo.ts` (or `npm run demo`). Uses the same FACTORY_* and NIGHTSHIFT_* settings as the app.
import { randomUUID } from 'node:crypto';
import { SoftTimeLimitExceeded, type Logger, type TaskContext } from '@nightshift/core';
import app, { closeFactoryResources } from './app.ts';
import { seedDemoData } from './src/demo-data.ts';
import { readFactorySettings } from './src/settings.ts';

const log: Logger = {
  debug: () => {},
  info: (obj, msg) => console.log('   info:', msg ?? '', typeof obj === 'string' ? obj : JSON.stringify(obj)),
  warn: (obj, msg) => console.log('   warn:', msg ?? '', typeof obj === 'string' ? obj : JSON.stringify(obj)),
  error: (obj, msg) => console.log('  error:', msg ?? '', typeof obj === 'string' ? obj : JSON.stringify(obj)),
};

async function runOnce(name: string, args: unknown[], softLimitMs = 10_000): Promise<void> {
  const task = app.task(name);
  if (task === undefined) throw new Error(`no task ${name}`);
  const controller = new AbortController();
  // Plays the worker's soft time limit, so users.sync of a slow user shows what happens.
  const timer = setTimeout(() => controller.abort(new SoftTimeLimitExceeded(softLimitMs)), softLimitMs);
  const ctx: TaskContext = {
    id: randomUUID(), task: name, attempt: 1, maxAttempts: 1, queue: task.queue ?? 'default', signal: controller.signal,
    log, origin: { type: 'producer', producer: 'demo' }, sentAt: new Date().toISOString(), kwargs: {},
    redelivered: false, deliveryCount: 0, progress: () => {},
  };
  console.log(`${name}(${args.map((arg) => JSON.stringify(arg)).join(', ')})`);
  try {
    const run = task.run as (ctx: TaskContext, ...args: unknown[]) => unknown;
    console.log('  →', JSON.stringify(await run(ctx, ...args)));
  } catch (error) {
    console.log('  ✗', error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  } finally {
    clearTimeout(timer);
  }
}

try {
  await seedDemoData(readFactorySettings());
  await runOnce('tokens.cleanupExpired', []);
  await runOnce('reports.generateDaily', ['usage']);
  await runOnce('reports.generateDaily', ['revenue']);
  await runOnce('apis.checkHealth', [{ timeout: '1s' }]);
  await runOnce('tasks.archiveCompleted', [30]);
  await runOnce('users.sync', ['ada-lovelace']);
  await runOnce('users.sync', ['slow-grace-hopper'], 2_000);
} finally {
  await closeFactoryResources();
}
