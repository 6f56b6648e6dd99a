export { requireServices, checkServices, unavailableLine, type ServiceStatus, type ServiceUrls } from './require-services.ts';
export { ServiceUnavailableError } from '@nightshift/core';
export { dockerEngineReachable } from './containers.ts';
export { randomPrefix } from './random-prefix.ts';
export { redactUrl } from './redact-url.ts';
export type { ServiceName } from './services.ts';
