export { loadHealthApiConfig, HEALTH_API_METRICS_PORT, type HealthApiConfig, type HealthThresholds } from './config.ts';
export { HEALTH_API_SETTINGS, HEALTH_API_HTTP_PORT } from './settings.ts';
export { startHealthApi, type HealthApi, type HealthApiOptions } from './service.ts';
export { HistoryRecorder, type RecorderOptions } from './history/recorder.ts';
export { historyQueueName } from './event-queues.ts';
export { RemoteControl, WORKER_ACTIONS, type WorkerAction, type Actor, type ControlResult, type RemoteControlOptions, type RevokeResult } from './remote-control.ts';
