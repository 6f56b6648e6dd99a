export { startAlerter, type Alerter, type AlerterOptions } from './alerter.ts';
export { loadAlerterConfig, secretValues, ALERTER_METRICS_PORT, type AlerterConfig } from './config.ts';
export { readDeadLetterMessage } from './dead-letter-message.ts';
export { brokerReplayPublisher } from '@nightshift/broker';
export { alerterMetrics, type AlerterMetrics } from './metrics.ts';
