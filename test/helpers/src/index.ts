export { randomPrefix } from './random-prefix.ts';
export { checkServices, requireServices } from './require-services.ts';
export type { ServiceStatus, ServiceUrls } from './require-services.ts';
export { ServiceUnavailableError } from './service-unavailable-error.ts';
export type { ServiceName } from './services.ts';
export { slackWebhook, smtpServer } from './fake-alert-services.ts';
