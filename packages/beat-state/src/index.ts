export { beatKeys, type BeatKeys } from './keys.ts';
export { leaseToken, leaseHolder } from './lease-token.ts';
export { runId } from './run-id.ts';
