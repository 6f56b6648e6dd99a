import { setImmediate } from 'node:timers/promises';
import type { AnyApp, Logger } from '@nightshift/core';
import { compileRuntimeEntry, type ScheduleEntry } from '@nightshift/schedule';
import { assertMigrated, type RuntimeDefinitionRow, type ScheduleRecords, type ScheduleRevision, type ScheduleStateRow } from '@nightshift/store';
import { loopKey, type EntrySource, type LiveEntry, type RecordedRun } from './entry-source.ts';

/** The states in which a run has finished: nothing of it runs or retries any more. */
const FINISHED = new Set(['succeeded', 'dead-lettered', 'revoked']);
/**
 * How many runtime rows are read at once. The rows of a page (and the next, read meanwhile) live through the turns
 * given to the event loop, long enough to be moved to the old generation as garbage: smaller pages keep a start's
 * peak memory down, at the cost of a few more round trips.
 */
const PAGE = 1_000;
/** How many runtime rows are compiled between two turns given to the event loop. */
const YIELD_EVERY = 500;
/** PostgreSQL's codes for a table or schema that does not exist: the store is not migrated. */
const NOT_MIGRATED = new Set(['42P01', '3F000']);

/**
 * The app's entries with the runtime entries of PostgreSQL's `schedules` table and every entry's state from
 * `schedule_states`, through `ScheduleRecords`; `LISTEN` on the schema's channel says when they change. A runtime
 * entry that cannot be dispatched (its task is not in this app, a name the code uses) is left out and said once.
 */
export class PostgresEntrySource implements EntrySource {
  readonly #records: ScheduleRecords;
  readonly #code: readonly ScheduleEntry[];
  readonly #codeByName: ReadonlyMap<string, ScheduleEntry>;
  readonly #taskNames: readonly string[];
  readonly #log: Logger;
  /**
   * The runtime entries last returned, by name: one whose revision and state stand is returned again as the same
   * object (its definition is not compiled again, and the list beat holds and the list just read share every
   * entry, its revision string included, instead of holding two copies of 100,000).
   */
  readonly #known = new Map<string, LiveEntry>();
  readonly #refused = new Set<string>();

  constructor(records: ScheduleRecords, app: AnyApp, code: readonly ScheduleEntry[], log: Logger) {
    this.#records = records;
    this.#code = code;
    this.#codeByName = new Map(code.map((entry) => [entry.name, entry]));
    this.#taskNames = app.tasks.map((task) => task.name);
    this.#log = log;
  }

  async load(): Promise<readonly LiveEntry[]> {
    let states: Map<string, ScheduleStateRow>;
    let page = this.#records.listRuntimePage('', PAGE);
    try {
      states = await this.#records.states();
    } catch (error) {
      page.catch(() => {});
      throw await this.#explain(error);
    }
    const live: LiveEntry[] = this.#code.map((entry) => withState(entry, 'code', undefined, states.get(entry.name)));
    let runtime = 0;
    for (;;) {
      let rows: RuntimeDefinitionRow[];
      try {
        rows = await page;
      } catch (error) {
        throw await this.#explain(error);
      }
      const last = rows.at(-1);
      // PostgreSQL reads the next page while this one is compiled.
      if (rows.length === PAGE && last !== undefined) page = this.#records.listRuntimePage(last.name, PAGE);
      for (let i = 0; i < rows.length; i++) {
        // Compiling 100,000 new entries takes seconds: the event loop (the lease's renewals) gets its turns.
        if (i % YIELD_EVERY === YIELD_EVERY - 1) await setImmediate();
        const row = rows[i] as RuntimeDefinitionRow;
        const entry = this.#live(row, states.get(row.name));
        if (entry === undefined) continue;
        runtime += 1;
        live.push(entry);
      }
      if (rows.length < PAGE) break;
    }
    // Every entry read is known now: any other known name was removed (or refused) since the last read. Only then
    // a set of the names read (100,000 of them, for the length of the read, promoted with the entries as garbage).
    if (this.#known.size > runtime) {
      const read = new Set(live.map((one) => one.entry.name));
      for (const name of this.#known.keys()) if (!read.has(name)) this.#known.delete(name);
    }
    return Object.freeze(live);
  }

  async loadSome(names: readonly string[]): Promise<{ changed: LiveEntry[]; removed: string[] }> {
    let rows: RuntimeDefinitionRow[];
    let states: Map<string, ScheduleStateRow>;
    try {
      [rows, states] = await Promise.all([this.#records.getRuntimeMany(names), this.#records.statesOf(names)]);
    } catch (error) {
      throw await this.#explain(error);
    }
    const byName = new Map(rows.map((row) => [row.name, row]));
    const changed: LiveEntry[] = [];
    const removed: string[] = [];
    for (const name of names) {
      const code = this.#codeByName.get(name);
      if (code !== undefined) {
        changed.push(withState(code, 'code', undefined, states.get(name)));
        continue;
      }
      const row = byName.get(name);
      const live = row === undefined ? undefined : this.#live(row, states.get(name));
      if (live === undefined) {
        this.#known.delete(name);
        removed.push(name);
      } else {
        changed.push(live);
      }
    }
    return { changed, removed };
  }

  async fingerprint(): Promise<string> {
    try {
      return await this.#records.fingerprint();
    } catch (error) {
      throw await this.#explain(error);
    }
  }

  watch(onChange: (name: string) => void, signal: AbortSignal): Promise<void> {
    return this.#records.listen(onChange, signal, {
      onConnection: (problem) => {
        if (problem === undefined) this.#log.info('listening for schedule changes again');
        else this.#log.debug({ err: { message: problem.message } }, 'not listening for schedule changes: the reconcile still reads them');
      },
    });
  }

  async stillCurrent(entries: readonly LiveEntry[]): Promise<boolean[]> {
    let revisions: Map<string, ScheduleRevision>;
    try {
      revisions = await this.#records.revisionsOf(entries.map((live) => live.entry.name));
    } catch (error) {
      throw await this.#explain(error);
    }
    return entries.map((live) => this.#current(live, revisions));
  }

  async stillCurrentMarked(entries: readonly LiveEntry[]): Promise<{ current: boolean[]; mark: string | undefined }> {
    let read: Awaited<ReturnType<ScheduleRecords['revisionsMarked']>>;
    try {
      read = await this.#records.revisionsMarked(entries.map((live) => live.entry.name));
    } catch (error) {
      throw await this.#explain(error);
    }
    const { revisions, mark } = read;
    return { current: entries.map((live) => this.#current(live, revisions)), mark };
  }

  async changeMark(): Promise<string> {
    try {
      return await this.#records.changeMark();
    } catch (error) {
      throw await this.#explain(error);
    }
  }

  // Whether the entry stands in `revisions` as it was loaded.
  #current(live: LiveEntry, revisions: Map<string, ScheduleRevision>): boolean {
    const name = live.entry.name;
    const now = revisions.get(name);
    if (now === undefined) return false;
    // The code's entry of a name stands whatever the runtime has under it (`#compile` refuses that row).
    let revision = 'code';
    if (!this.#codeByName.has(name)) {
      if (now.version === undefined || now.updatedAt === undefined) return false;
      revision = revisionOf(now.version, now.updatedAt);
    }
    const resumedAt = now.resumedAt === null ? undefined : Date.parse(now.resumedAt);
    return loopKey({ ...live, revision, paused: now.paused, resumedAt }) === loopKey(live);
  }

  async lastRunOf(entry: string): Promise<RecordedRun | undefined> {
    const run = await this.#records.lastRunOf(entry);
    return run === undefined ? undefined : { id: run.id, sentAt: Date.parse(run.sentAt), finished: FINISHED.has(run.state) };
  }

  // The row as beat dispatches it: the object returned last time while its revision and state stand.
  #live(row: RuntimeDefinitionRow, state: ScheduleStateRow | undefined): LiveEntry | undefined {
    const revision = revisionOf(row.version, row.updatedAt);
    const known = this.#known.get(row.name);
    const same = known?.revision === revision ? known : undefined;
    const paused = state?.paused === true;
    const resumedAt = resumedAtOf(state);
    if (same !== undefined && same.paused === paused && same.resumedAt === resumedAt) return same;
    // Only paused or resumed: the compiled definition (and its revision string) stay.
    const entry = same?.entry ?? this.#compile(row, revision);
    if (entry === undefined) return undefined;
    const live: LiveEntry = Object.freeze({ entry, revision: same?.revision ?? revision, paused, changedAt: Date.parse(row.updatedAt), resumedAt });
    this.#known.set(row.name, live);
    return live;
  }

  #compile(row: RuntimeDefinitionRow, revision: string): ScheduleEntry | undefined {
    const refusal = `${row.name}@${revision}`;
    if (this.#codeByName.has(row.name)) {
      if (!this.#refused.has(refusal)) this.#log.error({ entry: row.name }, `runtime entry ${row.name} is not dispatched: the app's code has an entry of that name, which stands`);
      this.#refused.add(refusal);
      return undefined;
    }
    try {
      return compileRuntimeEntry({ ...row.definition, name: row.name }, this.#taskNames);
    } catch (error) {
      if (!this.#refused.has(refusal)) {
        this.#log.error({ entry: row.name, version: row.version, err: { message: (error as Error).message } },
          `runtime entry ${row.name} is not dispatched: ${(error as Error).message}`);
      }
      this.#refused.add(refusal);
      return undefined;
    }
  }

  // A schema without the schedules table says what to do about it.
  async #explain(error: unknown): Promise<unknown> {
    if (!NOT_MIGRATED.has(String((error as { code?: unknown }).code))) return error;
    return assertMigrated(this.#records.store).then(() => error, (notReady: unknown) => notReady);
  }
}

function withState(entry: ScheduleEntry, revision: string, changedAt: number | undefined, state: ScheduleStateRow | undefined): LiveEntry {
  return Object.freeze({ entry, revision, paused: state?.paused === true, changedAt, resumedAt: resumedAtOf(state) });
}

/**
 * A runtime entry's revision, `v<version>@<update time>`, as one flat string: a template literal makes a rope of
 * three strings (about 100 bytes, where this is 50), and a leader keeps one per entry.
 */
function revisionOf(version: number, updatedAt: string): string {
  return [`v${version}`, updatedAt].join('@');
}

function resumedAtOf(state: ScheduleStateRow | undefined): number | undefined {
  return state?.resumedAt == null ? undefined : Date.parse(state.resumedAt);
}
