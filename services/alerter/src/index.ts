export { startAlerter, type Alerter, type AlerterOptions } from './alerter.ts';
export { loadAlerterConfig, ALERTER_METRICS_PORT, type AlerterConfig } from './config.ts';
export { ALERTER_SETTINGS } from './settings.ts';
