import { BatchedStatement } from './batched-statement.ts';
import { StoreUnavailableError } from './errors.ts';
import { DEFER_NOTIFY, ScheduleAnnouncer } from './schedule-announcer.ts';
import type { Store } from './store.ts';

export interface ScheduleRow {
  name: string; definition: Record<string, unknown>; note: string | null; version: number;
  created_by: string; created_at: Date; updated_by: string; updated_at: Date;
}

export interface StateRow {
  name: string; paused: boolean; paused_by: string | null; paused_at: Date | null; paused_note: string | null;
  resumed_by: string | null; resumed_at: Date | null; version: number;
}

/** A schedule row joined with its state's columns, prefixed `st_` (all null when it has no state). */
export type ScheduleWithStateRow = ScheduleRow & { [K in keyof Omit<StateRow, 'name'> as `st_${K}`]: StateRow[K] | null };

// A state's columns beside a schedule's in one row: `st` is the state's alias in the statement.
export const STATE_COLUMNS = ['paused', 'paused_by', 'paused_at', 'paused_note', 'resumed_by', 'resumed_at', 'version'].map((column) => `st.${column} AS st_${column}`).join(', ');

/**
 * The statement that writes a pause or a resume into `schedule_states` (aliased `x`), one row for each row of `source`
 * (a subquery with `name`, `by` and `note` columns; `note` says why it is paused, and is not used by a resume): a
 * pause records who, now and why; a resume who and now, the last pause's who, when and why staying for the record.
 * ScheduleRecords writes any entry's state with it, and ScheduleWrites a runtime entry's, batched.
 */
export function writePauseState(states: string, paused: boolean, source: string): string {
  return paused
    ? `INSERT INTO ${states} AS x (name, paused, paused_by, paused_at, paused_note) SELECT p.name, true, p.by, now(), p.note FROM ${source} p
       ON CONFLICT (name) DO UPDATE SET paused = true, paused_by = excluded.paused_by, paused_at = now(), paused_note = excluded.paused_note,
         version = x.version + 1, updated_at = now()`
    : `INSERT INTO ${states} AS x (name, paused, resumed_by, resumed_at) SELECT p.name, false, p.by, now() FROM ${source} p
       ON CONFLICT (name) DO UPDATE SET paused = false, resumed_by = excluded.resumed_by, resumed_at = now(), version = x.version + 1, updated_at = now()`;
}

interface Insert { readonly name: string; readonly definition: string; readonly note: string | null; readonly by: string }
interface Update extends Insert { readonly expectedVersion: number }
interface Remove { readonly name: string; readonly expectedVersion: number | null }
interface Pause { readonly name: string; readonly by: string; readonly note: string | null }

// PostgreSQL unreachable is every call's failure: not asked again call by call.
const SHARED = { shared: (error: unknown) => error instanceof StoreUnavailableError };
const byName = <R extends { name: string }>(rows: readonly R[]): Map<string, R> => new Map(rows.map((row) => [row.name, row]));
const column = <I, K extends keyof I>(calls: readonly I[], key: K): I[K][] => calls.map((call) => call[key]);

/**
 * The changes of runtime entries and states as ScheduleRecords makes them: each kind one statement (one round trip,
 * one commit, its rows checked by name and version in the statement, not read first), the calls made while one runs
 * gathered into the next (`BatchedStatement`), announced once committed (`ScheduleAnnouncer`). A change's cost is
 * mostly its round trips and its commit; at 1,000 changes a second from a few clients, those are shared.
 */
export class ScheduleWrites {
  readonly #announcer: ScheduleAnnouncer;
  readonly #insert: BatchedStatement<Insert, ScheduleRow>;
  readonly #update: BatchedStatement<Update, ScheduleWithStateRow>;
  readonly #remove: BatchedStatement<Remove, ScheduleRow>;
  readonly #pause: BatchedStatement<Pause, ScheduleWithStateRow>;
  readonly #resume: BatchedStatement<Pause, ScheduleWithStateRow>;
  readonly #read: BatchedStatement<{ readonly name: string }, ScheduleWithStateRow>;

  constructor(store: Store) {
    const schedules = store.table('schedules');
    const states = store.table('schedule_states');
    this.#announcer = new ScheduleAnnouncer(store);
    const query = async <R extends { name: string }>(text: string, values: readonly unknown[]) => byName((await store.query<R>(text, values)).rows);
    this.#insert = new BatchedStatement((calls) => query<ScheduleRow>(
      `WITH deferred AS (SELECT ${DEFER_NOTIFY}),
       input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS i(name, definition, note, by)),
       added AS (
         INSERT INTO ${schedules} (name, definition, note, created_by, updated_by) SELECT i.name, i.definition::jsonb, i.note, i.by, i.by FROM input i, deferred
         ON CONFLICT (name) DO NOTHING RETURNING *
       ),
       cleared AS (DELETE FROM ${states} WHERE name IN (SELECT name FROM added))
       SELECT * FROM added`,
      [column(calls, 'name'), column(calls, 'definition'), column(calls, 'note'), column(calls, 'by')]), SHARED);
    this.#update = new BatchedStatement((calls) => query<ScheduleWithStateRow>(
      `WITH deferred AS (SELECT ${DEFER_NOTIFY}),
       input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::integer[]) AS i(name, definition, note, by, expected)),
       changed AS (
         UPDATE ${schedules} s SET definition = i.definition::jsonb, note = i.note, updated_by = i.by, updated_at = now(), version = s.version + 1
           FROM input i, deferred WHERE s.name = i.name AND s.version = i.expected RETURNING s.*
       )
       SELECT c.*, ${STATE_COLUMNS} FROM changed c LEFT JOIN ${states} st ON st.name = c.name`,
      [column(calls, 'name'), column(calls, 'definition'), column(calls, 'note'), column(calls, 'by'), column(calls, 'expectedVersion')]), SHARED);
    this.#remove = new BatchedStatement((calls) => query<ScheduleRow>(
      `WITH deferred AS (SELECT ${DEFER_NOTIFY}),
       input AS (SELECT * FROM unnest($1::text[], $2::integer[]) AS i(name, expected)),
       removed AS (
         DELETE FROM ${schedules} s USING input i, deferred WHERE s.name = i.name AND (i.expected IS NULL OR s.version = i.expected) RETURNING s.*
       ),
       cleared AS (DELETE FROM ${states} WHERE name IN (SELECT name FROM removed))
       SELECT * FROM removed`,
      [column(calls, 'name'), column(calls, 'expectedVersion')]), SHARED);
    // A state is written only for a runtime entry that exists, and the entry is read back with it.
    const setPaused = (paused: boolean) => (calls: readonly Pause[]) => query<ScheduleWithStateRow>(
      `WITH deferred AS (SELECT ${DEFER_NOTIFY}),
       input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[]) AS i(name, by, note)),
       s AS (SELECT e.*, i.by AS change_by, i.note AS change_note FROM ${schedules} e JOIN input i ON i.name = e.name, deferred),
       st AS (${writePauseState(states, paused, '(SELECT name, change_by AS by, change_note AS note FROM s)')}
         RETURNING *)
       SELECT s.*, ${STATE_COLUMNS} FROM s JOIN st ON st.name = s.name`,
      [column(calls, 'name'), column(calls, 'by'), column(calls, 'note')]);
    this.#pause = new BatchedStatement(setPaused(true), SHARED);
    this.#resume = new BatchedStatement(setPaused(false), SHARED);
    this.#read = new BatchedStatement((calls) => query<ScheduleWithStateRow>(
      `SELECT s.*, ${STATE_COLUMNS} FROM ${schedules} s LEFT JOIN ${states} st ON st.name = s.name WHERE s.name = ANY($1::text[])`,
      [column(calls, 'name')]), SHARED);
  }

  /** The new row, or `undefined` when the name is taken. */
  insert(call: Insert): Promise<ScheduleRow | undefined> {
    return this.#announced(call.name, this.#insert.call(call));
  }

  /** The changed row with its state, or `undefined` when there is no row of that name at that version. */
  update(call: Update): Promise<ScheduleWithStateRow | undefined> {
    return this.#announced(call.name, this.#update.call(call));
  }

  /** The removed row, or `undefined` when there is no row of that name (at that version, when given). */
  remove(call: Remove): Promise<ScheduleRow | undefined> {
    return this.#announced(call.name, this.#remove.call(call));
  }

  /** The runtime entry with its state as paused or resumed, or `undefined` (nothing written) when there is none of that name. */
  setPaused(paused: boolean, call: Pause): Promise<ScheduleWithStateRow | undefined> {
    return this.#announced(call.name, (paused ? this.#pause : this.#resume).call(call));
  }

  /** The runtime entry with its state, or `undefined`. */
  read(name: string): Promise<ScheduleWithStateRow | undefined> {
    return this.#read.call({ name });
  }

  /** Changes made here that skip the trigger's announcement (`DEFER_NOTIFY`) are announced once written. */
  async #announced<R>(name: string, written: Promise<R | undefined>): Promise<R | undefined> {
    const row = await written;
    if (row !== undefined) await this.#announcer.announce(name);
    return row;
  }

  /** A change of a state made elsewhere with `DEFER_NOTIFY`, to announce. */
  announce(name: string): Promise<void> {
    return this.#announcer.announce(name);
  }
}
