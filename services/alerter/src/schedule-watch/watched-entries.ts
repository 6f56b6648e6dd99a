import { createHash } from 'node:crypto';
import type { AnyApp, Logger } from '@nightshift/core';
import { checkScheduleEntries, compileRuntimeEntry, entryQueue, runtimeEntryInput, type ScheduleEntry } from '@nightshift/schedule';
import type { ScheduleRecords, ScheduleStateRow } from '@nightshift/store';
import { entryHorizonMs } from './run-horizon.ts';

/** An entry the watch judges, with what judging it needs beside the entry itself. */
export interface WatchedEntry {
  readonly entry: ScheduleEntry;
  /** The queue its runs go to; `undefined` when the alerter runs without the app and the entry names none. */
  readonly queue: string | undefined;
  /** See `entryHorizonMs`. */
  readonly horizonMs: number;
  /** A digest of its definition: a change is watched afresh. */
  readonly definitionHash: string;
  /** Its pause, or `null` while it runs. */
  readonly paused: { readonly at: string | null; readonly by: string | null; readonly note: string | null } | null;
  /** When it was last resumed (ISO 8601), or `null`. */
  readonly resumedAt: string | null;
}

/**
 * The entries to watch: the app's code entries (when the alerter has the app) and the runtime entries, each with
 * its state. A runtime entry that no longer compiles, or whose name a code entry took, is not dispatched by beat and
 * not watched; each is said once in the log.
 */
export class WatchedEntries {
  readonly #app: AnyApp | undefined;
  readonly #records: ScheduleRecords;
  readonly #logger: Logger;
  readonly #shortestRetryStepMs: number;
  readonly #code: readonly ScheduleEntry[];
  readonly #told = new Set<string>();

  constructor(options: { app: AnyApp | undefined; records: ScheduleRecords; logger: Logger; retryLadderMs: readonly number[] }) {
    this.#app = options.app;
    this.#records = options.records;
    this.#logger = options.logger;
    this.#shortestRetryStepMs = options.retryLadderMs.length === 0 ? 0 : Math.min(...options.retryLadderMs);
    const checked = options.app ? checkScheduleEntries(options.app.schedule, options.app.tasks.map((task) => task.name)) : undefined;
    for (const problem of checked?.problems ?? []) options.logger.warn({ entry: problem.name }, `not watching ${problem.message}`);
    this.#code = checked?.entries ?? [];
  }

  /** The zone an entry without its own is read in: the app's, else UTC. */
  get appZone(): string {
    return this.#app?.timezone ?? 'UTC';
  }

  /** Whether code entries are watched too (the alerter has the app), or runtime entries only. */
  get scope(): 'all' | 'runtime' {
    return this.#app === undefined ? 'runtime' : 'all';
  }

  async list(): Promise<WatchedEntry[]> {
    const [rows, states] = await Promise.all([this.#records.listRuntime(), this.#records.states()]);
    const taskNames = this.#app?.tasks.map((task) => task.name);
    const codeNames = new Set(this.#code.map((entry) => entry.name));
    const runtime: ScheduleEntry[] = [];
    for (const row of rows) {
      if (codeNames.has(row.name)) {
        this.#tellOnce(`${row.name}:taken`, { entry: row.name }, `not watching runtime entry ${row.name}: an entry of the app's code has its name`);
        continue;
      }
      try {
        runtime.push(compileRuntimeEntry({ ...row.definition, name: row.name }, taskNames));
      } catch (error) {
        this.#tellOnce(`${row.name}:${row.version}`, { entry: row.name, version: row.version }, `not watching runtime entry ${row.name}: ${(error as Error).message}`);
      }
    }
    return [...this.#code, ...runtime].map((entry) => this.#watched(entry, states.get(entry.name)));
  }

  #watched(entry: ScheduleEntry, state: ScheduleStateRow | undefined): WatchedEntry {
    const app = this.#app;
    return {
      entry,
      queue: app !== undefined && app.task(entry.task) !== undefined ? entryQueue(app, entry) : entry.queue,
      horizonMs: entryHorizonMs(app, entry, this.#shortestRetryStepMs),
      definitionHash: createHash('sha256').update(JSON.stringify([entry.source, runtimeEntryInput(entry)])).digest('hex').slice(0, 32),
      paused: state?.paused ? { at: state.pausedAt, by: state.pausedBy, note: state.pausedNote } : null,
      resumedAt: state?.resumedAt ?? null,
    };
  }

  #tellOnce(key: string, fields: Record<string, unknown>, message: string): void {
    if (this.#told.has(key)) return;
    this.#told.add(key);
    this.#logger.warn(fields, message);
  }
}
