import type { AnyApp } from '@nightshift/core';
import {
  describeSchedule, entryQueue, entryZone, runtimeEntryInput, upcomingFireTimes, type OverlapPolicy, type RuntimeEntryInput, type ScheduleEntry,
} from '@nightshift/schedule';
import type { RuntimeScheduleRow, ScheduleFire, ScheduleStateRow } from '@nightshift/store';

/** Who paused an entry, when (ISO 8601) and why. */
export interface PausedView {
  readonly by: string | null;
  readonly at: string | null;
  readonly note: string | null;
}

/**
 * A schedule entry as people see it, of the code or of the runtime: the same shape from the client library, the
 * CLI (`--json`), the REST API and the dashboard. Runtime-only fields (note, who created and changed it, when,
 * version) are `null` for an entry of the code.
 */
export interface ScheduleView {
  readonly name: string;
  readonly source: 'code' | 'runtime';
  readonly task: string;
  /** A cron string, or `{ every, anchor? }`. */
  readonly schedule: RuntimeEntryInput['schedule'];
  /** The schedule in words, with the zone it is read in. */
  readonly description: string;
  /** The zone its cron is read in: its own, else the app's. */
  readonly timezone: string;
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
  /** The queue its runs go to: its own, else its task's, else the app's default. */
  readonly queue: string;
  readonly expires: string | null;
  readonly misfire: NonNullable<RuntimeEntryInput['misfire']>;
  readonly overlap: OverlapPolicy;
  readonly jitter: string | null;
  /** ISO 8601. */
  readonly startAt: string | null;
  readonly endAt: string | null;
  readonly note: string | null;
  readonly createdBy: string | null;
  readonly createdAt: string | null;
  readonly updatedBy: string | null;
  readonly updatedAt: string | null;
  /** Pass it back with `update` or `remove`: a change made against an older version is refused. */
  readonly version: number | null;
  /** `null` while it runs. */
  readonly paused: PausedView | null;
  /** ISO 8601: its next fire times (none while its stored definition does not compile, or once it ended). */
  readonly nextRuns: readonly string[];
  /** The entry in the JSON form a runtime entry is written in (what `create` takes and `update` patches). */
  readonly definition: RuntimeEntryInput;
  /**
   * Why this runtime entry is not dispatched, or `null`: its stored definition no longer compiles against the app
   * (its task was removed), or an entry of the code took its name.
   */
  readonly problem: string | null;
}

/** Each fire time's fate, as `history` lists it: see `ScheduleFire` (`@nightshift/store`). */
export type FireView = ScheduleFire;

/** An entry's history: its next fire times and its recent fires, newest first. */
export interface ScheduleHistory {
  /** ISO 8601. */
  readonly next: readonly string[];
  readonly fires: readonly FireView[];
}

/** How many next fire times a view shows. */
export const NEXT_RUNS_SHOWN = 5;

/** The view of a compiled entry. */
export function entryView(app: AnyApp, entry: ScheduleEntry, row: RuntimeScheduleRow | undefined, state: ScheduleStateRow | undefined, nowMs: number): ScheduleView {
  const definition = runtimeEntryInput(entry);
  return {
    name: entry.name,
    source: entry.source,
    task: entry.task,
    schedule: definition.schedule,
    description: describeSchedule(entry.schedule, entryZone(entry, app.timezone)),
    timezone: entryZone(entry, app.timezone),
    args: entry.args,
    kwargs: entry.kwargs,
    queue: entryQueue(app, entry),
    expires: entry.expires === undefined ? null : String(entry.expires),
    misfire: definition.misfire ?? entry.misfire.policy,
    overlap: entry.overlap,
    jitter: definition.jitter === undefined ? null : String(definition.jitter),
    startAt: definition.startAt ?? null,
    endAt: definition.endAt ?? null,
    ...runtimeFields(row),
    paused: pausedView(state),
    nextRuns: upcomingFireTimes(entry, app.timezone, nowMs, NEXT_RUNS_SHOWN).map((ms) => new Date(ms).toISOString()),
    definition,
    problem: null,
  };
}

/** The view of a stored runtime entry that cannot be dispatched: as stored, with why. */
export function brokenView(app: AnyApp, row: RuntimeScheduleRow, state: ScheduleStateRow | undefined, problem: string): ScheduleView {
  const stored = row.definition as Partial<RuntimeEntryInput>;
  return {
    name: row.name,
    source: 'runtime',
    task: typeof stored.task === 'string' ? stored.task : '',
    schedule: stored.schedule ?? '',
    description: '',
    timezone: typeof stored.timezone === 'string' ? stored.timezone : app.timezone,
    args: Array.isArray(stored.args) ? stored.args : [],
    kwargs: stored.kwargs ?? {},
    queue: typeof stored.queue === 'string' ? stored.queue : '',
    expires: stored.expires === undefined ? null : String(stored.expires),
    misfire: stored.misfire ?? 'once',
    overlap: stored.overlap ?? 'allow',
    jitter: stored.jitter === undefined ? null : String(stored.jitter),
    startAt: stored.startAt ?? null,
    endAt: stored.endAt ?? null,
    ...runtimeFields(row),
    paused: pausedView(state),
    nextRuns: [],
    definition: row.definition as unknown as RuntimeEntryInput,
    problem,
  };
}

function runtimeFields(row: RuntimeScheduleRow | undefined): Pick<ScheduleView, 'note' | 'createdBy' | 'createdAt' | 'updatedBy' | 'updatedAt' | 'version'> {
  return {
    note: row?.note ?? null, createdBy: row?.createdBy ?? null, createdAt: row?.createdAt ?? null,
    updatedBy: row?.updatedBy ?? null, updatedAt: row?.updatedAt ?? null, version: row?.version ?? null,
  };
}

function pausedView(state: ScheduleStateRow | undefined): PausedView | null {
  return state?.paused === true ? { by: state.pausedBy, at: state.pausedAt, note: state.pausedNote } : null;
}
