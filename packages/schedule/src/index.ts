export { every, MIN_INTERVAL_MS, type IntervalSchedule, type IntervalParts, type EveryOptions } from './interval.ts';
export { cron, crontab, type CronSchedule, type CrontabFields } from './cron.ts';
export { CRON_FIELD_NAMES, type CronField, type CronFieldName, type CronFields, type CrontabValue } from './cron-fields.ts';
export {
  toSchedule, isSchedule, nextFireTime, nextFireTimes, dueRuns, MAX_COUNTED_RUNS,
  type Schedule, type ScheduleInput, type DueRuns,
} from './schedule.ts';
export { describeSchedule, formatInZone } from './describe.ts';
export { describeNextDstChange, nextOffsetChange, type OffsetChange } from './dst-change.ts';
export {
  compileMisfire, planRuns, graceEnd, runsToKeep, describeMisfire, DEFAULT_MISFIRE, DEFAULT_SKIP_GRACE_MS, DEFAULT_ALL_CAP,
  type MisfireInput, type MisfirePolicy, type MisfirePolicyName, type MissedReason, type RunPlan,
} from './misfire.ts';
export {
  checkScheduleEntries, compileScheduleEntries, compileRuntimeEntry, runtimeEntryInput, entryZone, jitterOffsetMs, OVERLAP_POLICIES, MAX_JITTER_MS,
  type ScheduleEntry, type EntryProblem, type CheckedEntries, type RuntimeEntryInput, type OverlapPolicy, type EntryKind,
} from './entry.ts';
export { upcomingFireTimes, fireTimesBetween, entryRunHorizonMs } from './entry-times.ts';
export { compileEntryAlert, DEFAULT_OVERDUE_AFTER_MS, DEFAULT_ENTRY_ALERT, type EntryAlert, type EntryAlertInput } from './entry-alert.ts';
export { entryQueue } from './entry-queue.ts';
export {
  judgeEntry, dueBy, overdueBy,
  type EntryHealth, type EntryHealthStatus, type EntryFacts, type EntryRunFact, type NotSentFacts,
} from './entry-health.ts';
export { RUNTIME_ENTRIES_LABEL, DEFAULT_ENTRY_LABELS, MAX_ENTRY_LABELS, raiseEntryLabels } from './entry-labels.ts';
