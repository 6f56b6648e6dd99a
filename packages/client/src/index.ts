export { createClient, type NightshiftClient, type NightshiftClientOptions } from './client.ts';
export {
  ScheduleOperations, MAX_BACKFILL_FIRE_TIMES,
  type ScheduleOperationsOptions, type ScheduleInput, type SchedulePatch, type Actor, type RunNowResult,
  type BackfillOptions, type BackfillProgress, type BackfillResult,
} from './schedule-operations.ts';
export { type ScheduleView, type PausedView, type FireView, type ScheduleHistory, NEXT_RUNS_SHOWN } from './schedule-view.ts';
export { PERSON_CLAIM_TTL_MS } from './fire-sender.ts';
// The errors its operations throw, so that a caller catches them by what it imported from here.
export {
  ScheduleNotFoundError, ScheduleConflictError, ScheduleNameTakenError, CodeEntryReadOnlyError, ConfigError, BadParameterError,
  StoreUnavailableError, SchemaNotReadyError,
} from '@nightshift/core';
export { type SendOptions } from '@nightshift/broker';
export { type FireOrigin, type FireState, type FireRun, type ScheduleFire } from '@nightshift/store';
