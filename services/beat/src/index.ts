export { Beat, type BeatParts } from './beat.ts';
export { startBeatService, type BeatService, type BeatServiceOptions } from './service.ts';
export { compileBeatOptions, BEAT_DEFAULTS, BEAT_METRICS_PORT, type BeatOptions, type BeatSettings } from './options.ts';
export { Lease } from './lease.ts';
export { RunLedger, type ClaimResult } from './run-ledger.ts';
export { BeatMetrics, type MissReason } from './metrics.ts';
export { Dispatcher, type DispatchOutcome, type DispatcherParts } from './dispatcher.ts';
export { runEntry, type EntryLoopParts } from './entry-loop.ts';
export { connectRedis, connectBroker } from './connections.ts';
