import { brand } from './error-brand.ts';
import { NightshiftError } from './errors.ts';

// The errors of runtime schedules (thrown by @nightshift/store and @nightshift/client, which re-export them).
// They live here, beside the rest of the taxonomy, so that the one table of statuses and exit codes names them.
// An entry's name is `entry`, not `name`: `name` is the error's class name.

/** No schedule entry, in the code or at runtime, has that name. */
export class ScheduleNotFoundError extends NightshiftError {
  static { brand(this, 'ScheduleNotFoundError', 'E_SCHEDULE_NOT_FOUND'); }
  readonly entry: string;
  constructor(entry: string) {
    super(`no schedule entry ${JSON.stringify(entry)}: neither the app's code nor the runtime schedules have it`);
    this.name = 'ScheduleNotFoundError';
    this.entry = entry;
  }
}

/**
 * A change made against a version of the entry that is no longer current: someone else changed it first.
 * Read the entry again (its `version` is `currentVersion`) and decide whether to make the change again.
 */
export class ScheduleConflictError extends NightshiftError {
  static { brand(this, 'ScheduleConflictError', 'E_SCHEDULE_CONFLICT'); }
  readonly entry: string;
  readonly expectedVersion: number;
  readonly currentVersion: number;
  constructor(entry: string, expectedVersion: number, currentVersion: number) {
    super(`schedule entry ${JSON.stringify(entry)} was changed by someone else: it is at version ${currentVersion}, the change was made against version ${expectedVersion}; read it again and retry`);
    this.name = 'ScheduleConflictError';
    this.entry = entry;
    this.expectedVersion = expectedVersion;
    this.currentVersion = currentVersion;
  }
}

/** A new runtime entry whose name an entry of the code or another runtime entry already has. */
export class ScheduleNameTakenError extends NightshiftError {
  static { brand(this, 'ScheduleNameTakenError', 'E_SCHEDULE_NAME_TAKEN'); }
  readonly entry: string;
  /** Where the entry that has the name is: the app's code, or the runtime schedules. */
  readonly takenBy: 'code' | 'runtime';
  readonly field = 'name';
  constructor(entry: string, takenBy: 'code' | 'runtime') {
    super(`name: schedule entry ${JSON.stringify(entry)} already exists ${takenBy === 'code' ? 'in the app\'s code' : 'as a runtime schedule'}; choose another name`);
    this.name = 'ScheduleNameTakenError';
    this.entry = entry;
    this.takenBy = takenBy;
  }
}

/** A change or removal of an entry defined in the app's code: only the code can change it. */
export class CodeEntryReadOnlyError extends NightshiftError {
  static { brand(this, 'CodeEntryReadOnlyError', 'E_SCHEDULE_IN_CODE'); }
  readonly entry: string;
  constructor(entry: string) {
    super(`schedule entry ${JSON.stringify(entry)} is defined in the app's code: change it in the app's code; pause, resume, run-now and backfill work`);
    this.name = 'CodeEntryReadOnlyError';
    this.entry = entry;
  }
}
