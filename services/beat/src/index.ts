export { startBeatService, type BeatService, type BeatServiceOptions } from './service.ts';
export { BEAT_SETTINGS, BEAT_RECONCILE, BEAT_ENTRY_LABELS } from './settings.ts';
export { loadBeatConfig, type BeatConfig } from './config.ts';
export { codeEntrySource, type EntrySource, type LiveEntry, type RecordedRun } from './entry-source.ts';
export { compileBeatOptions, BEAT_DEFAULTS, BEAT_METRICS_PORT, MAX_ENTRY_LABELS, type BeatOptions, type BeatSettings } from './options.ts';
export { Lease } from './lease.ts';
export { RunLedger, type ClaimResult } from './run-ledger.ts';
export { connectRedis } from './connections.ts';
export { RunJournal, JOURNAL_BCC, JOURNAL_KEY, type StrandedClaim, type SortedClaims } from './run-journal.ts';
