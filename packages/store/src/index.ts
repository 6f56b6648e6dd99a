export { DATABASE_SCHEMA, STORE_SETTINGS } from './settings.ts';
export { Store, storeOptions, quoteIdent, DEFAULT_SCHEMA, type StoreOptions, type Queryable } from './store.ts';
export { migrate, assertMigrated, loadMigrations, type Migration, type MigrationResult } from './migrations.ts';
export { migrateWhenReachable, type MigrateWhenReachableOptions } from './migrate-when-reachable.ts';
export { dumpSchema } from './schema-dump.ts';
export {
  DEAD_LETTER_STATUSES,
  type DeadLetter, type DeadLetterInput, type DeadLetterStatus, type DeadLetterSummary,
} from './dead-letter.ts';
export { DeadLetters, MAX_DEAD_LETTER_PAGE, type DeadLetterFilter, type DeadLetterPage, type DeadLetterQuery, type DeadLetterReview, type IgnoreOutcome, type RecordOutcome, type ReviewNote } from './dead-letters.ts';
export { QueueActions, type QueueAction, type QueueActionKind } from './queue-actions.ts';
export { BulkRequeues, type BulkRequeue, type BulkRequeueInput, type BulkRequeueState } from './bulk-requeues.ts';
export { type ReplayEdit, type ReplayMessage, type ReplayPublisher, type RequeueOptions, type RequeueOutcome, type RequeueSelection } from './requeue.ts';
export { closeAlertWindows, type AlertOutcome, type AlertRouting, type ClosedAlertWindow, type CloseWindowsOptions } from './alert-groups.ts';
export { AlertOutbox, type OutboxEntry, type OutboxStats } from './alert-outbox.ts';
export {
  StoreUnavailableError, SchemaNotReadyError, DeadLetterNotFoundError, RequeueRefusedError, IgnoreRefusedError, isTransientStoreError, type PriorReview,
  ScheduleNotFoundError, ScheduleConflictError, ScheduleNameTakenError,
} from './errors.ts';
export {
  foldEvents, TASK_RUN_STATES,
  type TaskRunState, type TaskRunNote, type TaskEventInput, type TaskRunRecord, type TaskRunError,
} from './task-run.ts';
export { TaskRuns, type TaskEvent, type TaskRunDetail, type TaskRunProgress, type RecordedBatch, type StateCounts, type HistoryBucket } from './task-runs.ts';
export { MAX_TASK_RUN_PAGE, TASK_RUN_SORT_NAMES, type TaskRun, type TaskRunPage, type TaskRunQuery, type TaskRunSort } from './task-run-query.ts';
export { ScheduleRecords, type RuntimeDefinitionRow, type RuntimeEntryRecord, type RuntimeScheduleRow, type ScheduleRevision, type ScheduleStateRow } from './schedule-records.ts';
export {
  FIRE_ORIGINS, FIRE_STATES, MAX_SCHEDULE_FIRE_PAGE,
  type FireOrigin, type FireState, type FireInput, type FireQuery, type FireRun, type ScheduleFire, type LastRun,
} from './schedule-fires.ts';
export { scheduleChannel, ALL_SCHEDULES, type ListenOptions } from './schedule-listener.ts';
export { ScheduleFacts, type EntryRun, type EntrySuccess, type NotSentFires } from './schedule-facts.ts';
export {
  ScheduleHealthRecords,
  type ScheduleJudgement, type ScheduleHealthStatus, type EntrySourceName, type IncidentPhase, type IncidentState, type IncidentRow,
  type IncidentEffects, type WatchScope,
} from './schedule-health.ts';
export {
  ControlActions, MAX_CONTROL_ACTION_PAGE,
  type ControlAction, type ControlActionInput, type ControlActionOutcome, type ControlVia,
} from './control-actions.ts';
