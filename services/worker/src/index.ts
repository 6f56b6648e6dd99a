export { Worker } from './worker.ts';
export { compileWorkerOptions, type WorkerOptions, type WorkerOptionsInput, type PoolKind } from './options.ts';
export { startWorker, type StartedWorker } from './start.ts';
