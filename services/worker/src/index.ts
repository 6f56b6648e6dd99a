export { Worker } from './worker.ts';
export { compileWorkerOptions, DEFAULT_WORKER_GRACE, WORKER_FLAGS, type WorkerOptions, type WorkerOptionsInput, type PoolKind } from './options.ts';
export { startWorker, type StartedWorker } from './start.ts';
