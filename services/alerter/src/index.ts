export { startAlerter, type Alerter, type AlerterOptions } from './alerter.ts';
export { loadAlerterConfig, secretValues, ALERTER_METRICS_PORT, type AlerterConfig } from './config.ts';
