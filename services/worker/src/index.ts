export { Worker } from './worker.ts';
export { compileWorkerOptions, WORKER_FLAGS, type WorkerOptions, type WorkerOptionsInput, type PoolKind } from './options.ts';
export { startWorker, type StartedWorker } from './start.ts';
export { loadWorkerConfig, WORKER_METRICS_PORT, type WorkerConfig } from './config.ts';
export { WORKER_SETTINGS, WORKER_GRACE } from './settings.ts';
export { completionKeys, completionTtlMs, type CompletionKeys, type CompletionRecord, type FinishedOutcome } from './completion-records.ts';
