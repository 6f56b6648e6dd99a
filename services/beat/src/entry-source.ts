import type { ScheduleEntry } from '@nightshift/schedule';

/** One entry as beat dispatches it: its definition and its operational state. */
export interface LiveEntry {
  readonly entry: ScheduleEntry;
  /**
   * Changes whenever the definition does (a runtime entry's version and update time; `'code'` for the app's
   * entries): beat restarts the entry's loop when it changes.
   */
  readonly revision: string;
  /** Paused: fires that come due are counted missed (`paused`), not sent. */
  readonly paused: boolean;
  /** When the definition last changed (ms): fire times up to it belonged to the definition before. */
  readonly changedAt: number | undefined;
  /** When the entry was last resumed (ms): fire times up to it came due while it was paused. */
  readonly resumedAt: number | undefined;
}

/** The last run of an entry as the task history recorded it. */
export interface RecordedRun {
  readonly id: string;
  /** ms. */
  readonly sentAt: number;
  /** It succeeded, was dead-lettered (failed for good, or expired) or revoked. */
  readonly finished: boolean;
}

/**
 * Where beat's entries come from: the app's code, and (with PostgreSQL) the runtime entries and every entry's
 * state. Beat keeps the last list it could load when a load fails.
 */
export interface EntrySource {
  /**
   * Every entry to dispatch, code and runtime, each with its state. Rejects when they cannot be read now
   * (PostgreSQL unreachable, its schema not migrated).
   */
  load(): Promise<readonly LiveEntry[]>;
  /**
   * The entries of these names as `load` would return them (`changed`), and the names it would not return
   * (`removed`: no such entry, or one that cannot be dispatched): what a few changes cost to read, not every row.
   */
  loadSome?(names: readonly string[]): Promise<{ changed: LiveEntry[]; removed: string[] }>;
  /**
   * Calls `onChange` whenever the entries may have changed, with the name of the entry that changed, or `'*'`
   * when any may have (a reconnect), until `signal` aborts. Without it, changes are seen at the next reconcile.
   */
  watch?(onChange: (name: string) => void, signal: AbortSignal): Promise<void>;
  /**
   * A cheap fingerprint of what `load` reads: the same string means `load` would return the same list, so the
   * periodic reconcile skips it. Without it, every reconcile loads.
   */
  fingerprint?(): Promise<string>;
  /**
   * Whether each entry still stands as it was loaded (`loopKey` the same: its definition, pause and resumption),
   * read now from the source itself: what beat asks when a fire comes due and before it claims it, so that a change
   * committed before a fire time stops that fire even while its notification is on its way. Without it, a change
   * applies when beat hears of it.
   */
  stillCurrent?(entries: readonly LiveEntry[]): Promise<boolean[]>;
  /**
   * `stillCurrent` read ahead of the fire time, with the source's change mark of the same moment (see `changeMark`).
   * Without both, every check is `stillCurrent`'s at the fire time.
   */
  stillCurrentMarked?(entries: readonly LiveEntry[]): Promise<{ current: boolean[]; mark: string | undefined }>;
  /**
   * A mark of every change committed to the source: the same as one read before only if nothing was committed
   * between. At a fire time, one such read says that what `stillCurrentMarked` answered ahead still holds.
   */
  changeMark?(): Promise<string>;
  /** The newest recorded run of an entry (any origin). Without it, beat knows only what it sent itself. */
  lastRunOf?(entry: string): Promise<RecordedRun | undefined>;
}

/** The code's entries as beat dispatches them when nothing else is known: not paused, never changed. */
export function codeEntries(entries: readonly ScheduleEntry[]): readonly LiveEntry[] {
  return Object.freeze(entries.map((entry) => Object.freeze({ entry, revision: 'code', paused: false, changedAt: undefined, resumedAt: undefined })));
}

/** The app's entries only: what beat dispatches without PostgreSQL. */
export function codeEntrySource(entries: readonly ScheduleEntry[]): EntrySource {
  const live = codeEntries(entries);
  return { load: () => Promise.resolve(live) };
}

/** What must be the same for a running loop to go on: anything else restarts it. */
export function loopKey(live: LiveEntry): string {
  return `${live.revision}|${live.paused ? 'paused' : 'active'}|${live.resumedAt ?? ''}`;
}
