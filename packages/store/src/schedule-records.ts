import { ScheduleConflictError, ScheduleNameTakenError, ScheduleNotFoundError } from './errors.ts';
import { lastRunOf, listFires, pruneFires, recordFires, sentAlready, type FireInput, type FireQuery, type LastRun, type ScheduleFire } from './schedule-fires.ts';
import { DEFER_NOTIFY } from './schedule-announcer.ts';
import { listenForScheduleChanges, type ListenOptions } from './schedule-listener.ts';
import { ScheduleWrites, writePauseState, type ScheduleRow, type ScheduleWithStateRow, type StateRow } from './schedule-writes.ts';
import type { Store } from './store.ts';

/** A runtime schedule entry as stored. */
export interface RuntimeScheduleRow {
  readonly name: string;
  /** The entry's JSON form (`@nightshift/schedule`'s `RuntimeEntryInput`, without the note), as it was written. */
  readonly definition: Readonly<Record<string, unknown>>;
  readonly note: string | null;
  /** 1 when created, one more on every change: a change names the version it was made against. */
  readonly version: number;
  readonly createdBy: string;
  /** ISO 8601. */
  readonly createdAt: string;
  readonly updatedBy: string;
  /** ISO 8601. */
  readonly updatedAt: string;
}

/** The operational state of an entry of the code or of the runtime. An entry without one runs. */
/** What a dispatcher reads of a runtime entry: its definition and what names its revision. */
export type RuntimeDefinitionRow = Pick<RuntimeScheduleRow, 'name' | 'definition' | 'version' | 'updatedAt'>;

export interface ScheduleStateRow {
  readonly name: string;
  readonly paused: boolean;
  /** Who paused it last, when (ISO 8601) and why; kept after a resume, for the record. */
  readonly pausedBy: string | null;
  readonly pausedAt: string | null;
  readonly pausedNote: string | null;
  /** Who resumed it last, and when (ISO 8601). */
  readonly resumedBy: string | null;
  readonly resumedAt: string | null;
  /** One more on every change. */
  readonly version: number;
}

/**
 * What decides whether an entry as a reader loaded it still stands: the runtime row's version and update time
 * (`undefined` when there is no runtime row of that name) and the state's pause and last resumption.
 */
export interface ScheduleRevision {
  readonly version: number | undefined;
  /** ISO 8601, as `RuntimeScheduleRow.updatedAt`. */
  readonly updatedAt: string | undefined;
  readonly paused: boolean;
  /** ISO 8601, as `ScheduleStateRow.resumedAt`. */
  readonly resumedAt: string | null;
}

/** A runtime entry with its state (`undefined`: none, it runs), as one statement reads or writes them together. */
export interface RuntimeEntryRecord {
  readonly row: RuntimeScheduleRow;
  readonly state: ScheduleStateRow | undefined;
}

type DefinitionRow = Pick<ScheduleRow, 'name' | 'definition' | 'version'> & { updated_at: string };
// The update time as the ISO string `Date.toISOString` writes (both cut to the millisecond), made by PostgreSQL:
// no Date parsed and formatted again per row.
const DEFINITION_COLUMNS = `name, definition, version, to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS updated_at`;

/**
 * The schedules of one store: runtime entries (checked against a version on every change), the state of
 * every entry (paused or not), each fire time's fate, and the notifications beat listens to. Every change of
 * an entry or of its state is announced on `scheduleChannel(store.schema)`: those made here once committed (see
 * ScheduleWrites: a change is one statement, those made at once by several callers one together), those made
 * otherwise by the database itself.
 */
export class ScheduleRecords {
  readonly store: Store;
  readonly #schedules: string;
  readonly #states: string;
  readonly #marks: string;
  readonly #writes: ScheduleWrites;

  constructor(store: Store) {
    this.store = store;
    this.#writes = new ScheduleWrites(store);
    this.#schedules = store.table('schedules');
    this.#states = store.table('schedule_states');
    this.#marks = store.table('schedule_change_marks');
  }

  /**
   * A fingerprint of every runtime entry and every state (their names, versions and update times, summed as
   * hashes): while it stays the same, `listRuntime` and `states` would read the same. Read by PostgreSQL without
   * sending the rows, so that a reader holding 100,000 entries can tell cheaply whether anything changed.
   */
  async fingerprint(): Promise<string> {
    const part = (table: string) => `SELECT count(*)::text || ':' || coalesce(sum(hashtext(name || ':' || version || ':' || updated_at::text)::bigint), 0)::text FROM ${table}`;
    const { rows } = await this.store.query<{ schedules: string; states: string }>(`SELECT (${part(this.#schedules)}) AS schedules, (${part(this.#states)}) AS states`);
    return `${rows[0]?.schedules}/${rows[0]?.states}`;
  }

  /** Every runtime entry, by name. */
  async listRuntime(): Promise<RuntimeScheduleRow[]> {
    const { rows } = await this.store.query<ScheduleRow>(`SELECT * FROM ${this.#schedules} ORDER BY name`);
    return rows.map(readSchedule);
  }

  /**
   * Up to `limit` runtime entries after `afterName`, by name: what a reader of 100,000 entries reads a page at a
   * time (the rows of one page in memory at once, not all of them; the next page read while this one is used).
   */
  async listRuntimePage(afterName: string, limit: number): Promise<RuntimeDefinitionRow[]> {
    // Only what a dispatcher reads: each timestamp column costs a Date and a string per row, 100,000 times.
    const { rows } = await this.store.query<DefinitionRow>(`SELECT ${DEFINITION_COLUMNS} FROM ${this.#schedules} WHERE name > $1 ORDER BY name LIMIT $2`, [afterName, limit]);
    return rows.map(readDefinition);
  }

  /** The runtime entry of that name, or `undefined`. */
  async getRuntime(name: string): Promise<RuntimeScheduleRow | undefined> {
    const { rows } = await this.store.query<ScheduleRow>(`SELECT * FROM ${this.#schedules} WHERE name = $1`, [name]);
    return rows[0] === undefined ? undefined : readSchedule(rows[0]);
  }

  /** The runtime entries of these names that exist (what a reader told of a few changes reads, not every row). */
  async getRuntimeMany(names: readonly string[]): Promise<RuntimeDefinitionRow[]> {
    const { rows } = await this.store.query<DefinitionRow>(`SELECT ${DEFINITION_COLUMNS} FROM ${this.#schedules} WHERE name = ANY($1::text[]) ORDER BY name`, [names]);
    return rows.map(readDefinition);
  }

  /**
   * The revision of each of these names, in one statement (no definitions read): what a dispatcher asks at the
   * moment it is about to send, to find out whether a change was committed since it loaded the entries.
   */
  async revisionsOf(names: readonly string[]): Promise<Map<string, ScheduleRevision>> {
    return (await this.#revisions(names, false)).revisions;
  }

  /**
   * `revisionsOf`, with the change mark (`changeMark`) read in the same statement, so of the same moment: while the
   * mark stays the same, so do these rows. `mark` is `undefined` when no names were asked for.
   */
  revisionsMarked(names: readonly string[]): Promise<{ revisions: Map<string, ScheduleRevision>; mark: string | undefined }> {
    return this.#revisions(names, true);
  }

  /**
   * A count of every statement committed that changed a runtime entry or a state (migration 012), with the server's
   * start: the same at two moments only if nothing was committed to either table between them. One small read,
   * whatever the number of entries.
   */
  async changeMark(): Promise<string> {
    const { rows } = await this.store.query<{ mark: string }>(`SELECT ${this.#markSql} AS mark`);
    return rows[0]?.mark ?? '0';
  }

  /**
   * The mark: the counts' sum, and when the server started, so that a server restarted or a standby promoted (which
   * may have lost changes a mark read before it counted, and counted as many others since) never gives a mark read
   * before it again.
   */
  get #markSql(): string {
    return `(SELECT coalesce(sum(changes), 0)::text || '@' || pg_postmaster_start_time()::text FROM ${this.#marks})`;
  }

  async #revisions(names: readonly string[], marked: boolean): Promise<{ revisions: Map<string, ScheduleRevision>; mark: string | undefined }> {
    const { rows } = await this.store.query<{ name: string; version: number | null; updated_at: Date | null; paused: boolean | null; resumed_at: Date | null; mark?: string }>(
      // Each table filtered by `= ANY` (its primary key's index): joined to the names directly, the planner hashes
      // every row (42 ms for 500 names among 100,000 rows; 1 ms this way).
      `SELECT n.name, s.version, s.updated_at, st.paused, st.resumed_at${marked ? `, ${this.#markSql} AS mark` : ''}
        FROM unnest($1::text[]) AS n(name)
        LEFT JOIN (SELECT name, version, updated_at FROM ${this.#schedules} WHERE name = ANY($1::text[])) s ON s.name = n.name
        LEFT JOIN (SELECT name, paused, resumed_at FROM ${this.#states} WHERE name = ANY($1::text[])) st ON st.name = n.name`, [names]);
    const revisions = new Map(rows.map((row) => [row.name, {
      version: row.version ?? undefined, updatedAt: row.updated_at?.toISOString(), paused: row.paused === true, resumedAt: row.resumed_at?.toISOString() ?? null,
    }]));
    return { revisions, mark: rows[0]?.mark };
  }

  /**
   * Stores a new runtime entry at version 1, running (a state left under its name by an earlier entry goes).
   * @throws ScheduleNameTakenError when a runtime entry has that name.
   */
  async insert(name: string, definition: Readonly<Record<string, unknown>>, note: string | null, by: string): Promise<RuntimeScheduleRow> {
    const row = await this.#writes.insert({ name, definition: JSON.stringify(definition), note, by });
    if (row === undefined) throw new ScheduleNameTakenError(name, 'runtime');
    return readSchedule(row);
  }

  /**
   * Replaces a runtime entry's definition and note, if it is still at `expectedVersion`; the version goes up by one.
   * @throws ScheduleNotFoundError when there is no such runtime entry.
   * @throws ScheduleConflictError when it is at another version (someone changed it since it was read).
   */
  async update(name: string, definition: Readonly<Record<string, unknown>>, note: string | null, by: string, expectedVersion: number): Promise<RuntimeScheduleRow> {
    return (await this.updateWithState(name, definition, note, by, expectedVersion)).row;
  }

  /** As `update`, and the entry's state read in the same statement. */
  async updateWithState(name: string, definition: Readonly<Record<string, unknown>>, note: string | null, by: string, expectedVersion: number): Promise<RuntimeEntryRecord> {
    const row = await this.#writes.update({ name, definition: JSON.stringify(definition), note, by, expectedVersion });
    if (row === undefined) throw await this.#whyNot(name, expectedVersion);
    return readWithState(row);
  }

  /**
   * Removes a runtime entry and its state; `expectedVersion`, when given, must be its version. `by` says who, as
   * for every change, though nothing of the entry is left to keep it in. Resolves with the entry as it was.
   * @throws ScheduleNotFoundError when there is no such runtime entry.
   * @throws ScheduleConflictError when `expectedVersion` is given and it is at another version.
   */
  async delete(name: string, expectedVersion: number | undefined, _by: string): Promise<RuntimeScheduleRow> {
    const row = await this.#writes.remove({ name, expectedVersion: expectedVersion ?? null });
    if (row === undefined) throw await this.#whyNot(name, expectedVersion ?? 0);
    return readSchedule(row);
  }

  /** The runtime entry of that name with its state, in one statement, or `undefined`. */
  async getRuntimeWithState(name: string): Promise<RuntimeEntryRecord | undefined> {
    const row = await this.#writes.read(name);
    return row === undefined ? undefined : readWithState(row);
  }

  /**
   * As `setPaused`, for a runtime entry only, in one statement that also reads the entry: `undefined`, and nothing
   * written, when there is no runtime entry of that name.
   */
  async setRuntimePaused(name: string, paused: boolean, note: string | null, by: string): Promise<RuntimeEntryRecord | undefined> {
    const row = await this.#writes.setPaused(paused, { name, by, note });
    return row === undefined ? undefined : readWithState(row);
  }

  /** The state of every entry that has one, by name (entries without one run). */
  async states(): Promise<Map<string, ScheduleStateRow>> {
    const { rows } = await this.store.query<StateRow>(`SELECT * FROM ${this.#states}`);
    return new Map(rows.map((row) => [row.name, readState(row)]));
  }

  /** The state of one entry, or `undefined` (it runs). */
  async stateOf(name: string): Promise<ScheduleStateRow | undefined> {
    const { rows } = await this.store.query<StateRow>(`SELECT * FROM ${this.#states} WHERE name = $1`, [name]);
    return rows[0] === undefined ? undefined : readState(rows[0]);
  }

  /** The states of these entries that have one, by name. */
  async statesOf(names: readonly string[]): Promise<Map<string, ScheduleStateRow>> {
    const { rows } = await this.store.query<StateRow>(`SELECT * FROM ${this.#states} WHERE name = ANY($1::text[])`, [names]);
    return new Map(rows.map((row) => [row.name, readState(row)]));
  }

  /**
   * Pauses an entry (who, now, and `note` saying why) or resumes it (who and now; the last pause's who, when and
   * why stay for the record, and `note` is not used). Whether an entry of that name exists is the caller's to check.
   */
  async setPaused(name: string, paused: boolean, note: string | null, by: string): Promise<ScheduleStateRow> {
    const input = `(SELECT $1::text AS name, $2::text AS by, $3::text AS note FROM (SELECT ${DEFER_NOTIFY}) deferred)`;
    const { rows } = await this.store.query<StateRow>(`${writePauseState(this.#states, paused, input)} RETURNING *`, [name, by, paused ? note : null]);
    await this.#writes.announce(name);
    return readState(rows[0] as StateRow);
  }

  /** Records fire times' fates; one already recorded is left as it was (a redelivered event changes nothing). Returns how many were added. */
  recordFires(fires: readonly FireInput[]): Promise<number> {
    return recordFires(this.store, fires);
  }

  /** An entry's fires, newest first, each with its run's outcome once the task history has it. */
  fires(entry: string, query: FireQuery = {}): Promise<ScheduleFire[]> {
    return listFires(this.store, entry, query);
  }

  /**
   * Which of these fire times of `entry` were sent already (a sent fire is recorded, or the task history has the
   * run id given with it): what a backfill must not send again once the claims in Redis have expired.
   */
  sentAlready(entry: string, candidates: readonly { readonly fireTime: string; readonly runId: string }[]): Promise<Set<string>> {
    return sentAlready(this.store, entry, candidates);
  }

  /** The newest run of `entry` in the task history, whoever sent it, or `undefined`. */
  lastRunOf(entry: string): Promise<LastRun | undefined> {
    return lastRunOf(this.store, entry);
  }

  /** Deletes fires recorded before `before`, in batches (the task history's retention). Returns how many. */
  pruneFires(before: Date, batchSize = 1_000): Promise<number> {
    return pruneFires(this.store, before, batchSize);
  }

  /**
   * Calls `onChange(name)` for each change of a runtime entry or of a state, until `signal` aborts, on a connection
   * of its own that is opened again whenever it is lost; `onChange('*')` after every connect, the first included
   * (reload everything: changes made while nobody listened are not announced again). Resolves once stopped; never rejects.
   */
  listen(onChange: (name: string) => void, signal: AbortSignal, options?: ListenOptions): Promise<void> {
    return listenForScheduleChanges(this.store, onChange, signal, options);
  }

  /** Why a change found no row: there is none of that name, or it is at another version. */
  async #whyNot(name: string, expectedVersion: number): Promise<Error> {
    const { rows } = await this.store.query<{ version: number }>(`SELECT version FROM ${this.#schedules} WHERE name = $1`, [name]);
    return rows[0] === undefined ? new ScheduleNotFoundError(name) : new ScheduleConflictError(name, expectedVersion, rows[0].version);
  }
}

function readSchedule(row: ScheduleRow): RuntimeScheduleRow {
  return {
    name: row.name, definition: row.definition, note: row.note, version: row.version,
    createdBy: row.created_by, createdAt: row.created_at.toISOString(), updatedBy: row.updated_by, updatedAt: row.updated_at.toISOString(),
  };
}

function readWithState(row: ScheduleWithStateRow): RuntimeEntryRecord {
  const state = row.st_version === null ? undefined : readState({
    name: row.name, paused: row.st_paused as boolean, paused_by: row.st_paused_by, paused_at: row.st_paused_at, paused_note: row.st_paused_note,
    resumed_by: row.st_resumed_by, resumed_at: row.st_resumed_at, version: row.st_version,
  });
  return { row: readSchedule(row), state };
}

function readDefinition(row: DefinitionRow): RuntimeDefinitionRow {
  return { name: row.name, definition: row.definition, version: row.version, updatedAt: row.updated_at };
}

function readState(row: StateRow): ScheduleStateRow {
  return {
    name: row.name, paused: row.paused, pausedBy: row.paused_by, pausedAt: row.paused_at?.toISOString() ?? null, pausedNote: row.paused_note,
    resumedBy: row.resumed_by, resumedAt: row.resumed_at?.toISOString() ?? null, version: row.version,
  };
}
