import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import {
  BadParameterError, CodeEntryReadOnlyError, ConfigError, ScheduleNameTakenError, ScheduleNotFoundError, type AnyApp,
} from '@nightshift/core';
import type { Client } from '@nightshift/broker';
import { beatKeys, runId } from '@nightshift/beat-state';
import {
  compileRuntimeEntry, compileScheduleEntries, entryRunHorizonMs, fireTimesBetween, runtimeEntryInput, upcomingFireTimes, type RuntimeEntryInput, type ScheduleEntry,
} from '@nightshift/schedule';
import { assertMigrated, ScheduleRecords, type RuntimeScheduleRow, type Store } from '@nightshift/store';
import { claimFire, sendFire, type FireSenderParts } from './fire-sender.ts';
import { brokenView, entryView, NEXT_RUNS_SHOWN, type ScheduleHistory, type ScheduleView } from './schedule-view.ts';

export interface ScheduleOperationsOptions {
  /** The app: its tasks (a runtime entry's task must be one of them), its code entries and its time zone. */
  readonly app: AnyApp;
  /** The store holding the runtime entries, the states and the history (migrated; checked on first use). */
  readonly store: Store;
  /** Beat's Redis, where each fire time is claimed. May be connected lazily (`lazyConnect`). */
  readonly redis: Redis;
  /** A broker client made with this app (`createClient(config, { app })`, as beat's is): runs are sent by task name. */
  readonly client: Client<AnyApp>;
  /** `NIGHTSHIFT_PREFIX`, under which beat keeps its keys. Default: the broker client's prefix. */
  readonly prefix?: string;
  /** The clock. Default: `Date.now`. */
  readonly now?: () => number;
}

/** A new runtime entry: its JSON form, and an optional note (why it exists, for whom). */
export type ScheduleInput = RuntimeEntryInput & { readonly note?: string | null };

/** The fields of a runtime entry to change; `null` removes an optional field (`timezone: null`: the app's zone again). */
export type SchedulePatch = { readonly [K in Exclude<keyof RuntimeEntryInput, 'name'>]?: RuntimeEntryInput[K] | null } & {
  /** Must be the entry's own name when given: an entry is not renamed (create another, remove this one). */
  readonly name?: string;
  readonly note?: string | null;
};

/** Who makes a change; every change says who. */
export interface Actor {
  /** A person or a system, as it should appear in the entry's record (at most 200 characters). */
  readonly by: string;
}

export type RunNowResult =
  | { readonly sent: true; readonly id: string }
  /** Not sent: the entry's overlap policy (`skip`, `buffer-one`) holds it while its last run (`running`) has not finished. */
  | { readonly sent: false; readonly reason: 'overlap'; readonly running: string };

export interface BackfillOptions extends Actor {
  /** The first fire time to send (included). */
  readonly from: Date | string;
  /** The last (included); not after now: the fire times to come are beat's. */
  readonly to: Date | string;
  /** At most this many sends per second. Default: `10`. */
  readonly ratePerSecond?: number;
  /** Told after each fire time: sent, or already there. */
  readonly onProgress?: (progress: BackfillProgress) => void;
  /** Stops the backfill between two fire times (it then rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

export interface BackfillProgress {
  /** ISO 8601. */
  readonly fireTime: string;
  readonly outcome: 'sent' | 'already-there';
  /** Fire times handled so far, and in all. */
  readonly done: number;
  readonly total: number;
}

export interface BackfillResult {
  /** The fire times of the range. */
  readonly fireTimes: number;
  readonly sent: number;
  /** Sent before (by beat, a run now or an earlier backfill), or being sent: not sent again. */
  readonly alreadyThere: number;
}

/** The most fire times one backfill sends; a longer range is refused (send it in parts). */
export const MAX_BACKFILL_FIRE_TIMES = 10_000;
const DEFAULT_BACKFILL_RATE = 10;
const MAX_BY_LENGTH = 200;
// The history is asked about this many fire times at once.
const BACKFILL_CHUNK = 500;

/**
 * Every operation on an app's schedules, with the same validation and the same errors for every caller (the client
 * library, the CLI, the REST API, the dashboard): runtime entries are created, changed and removed (checked against
 * their version); any entry, of the code or of the runtime, is paused, resumed, run now and backfilled. A fire time
 * is claimed in Redis on beat's own key whoever sends it, with the id beat would give it, so none is sent twice.
 */
export class ScheduleOperations {
  readonly records: ScheduleRecords;
  readonly #app: AnyApp;
  readonly #code: ReadonlyMap<string, ScheduleEntry>;
  readonly #taskNames: readonly string[];
  readonly #sender: FireSenderParts;
  readonly #now: () => number;
  #migrated: Promise<void> | undefined;

  /** @throws ConfigError when the app's own schedule is invalid. */
  constructor(options: ScheduleOperationsOptions) {
    this.#app = options.app;
    this.#taskNames = options.app.tasks.map((task) => task.name);
    this.#code = new Map(compileScheduleEntries(options.app.schedule, this.#taskNames).map((entry) => [entry.name, entry]));
    this.#now = options.now ?? Date.now;
    this.records = new ScheduleRecords(options.store);
    this.#sender = {
      client: options.client, redis: options.redis, keys: beatKeys(options.prefix ?? options.client.broker.names.prefix), now: this.#now,
    };
  }

  /** Every entry: the code's, in the app's order, then the runtime's by name. */
  async list(): Promise<ScheduleView[]> {
    await this.#ready();
    const [rows, states] = await Promise.all([this.records.listRuntime(), this.records.states()]);
    const now = this.#now();
    return [
      ...[...this.#code.values()].map((entry) => entryView(this.#app, entry, undefined, states.get(entry.name), now)),
      ...rows.map((row) => this.#runtimeView(row, states.get(row.name), now)),
    ];
  }

  /**
   * The code's entries as the app defines them, without PostgreSQL: no paused state, no runtime entries. For
   * showing what beat dispatches while the database is down.
   */
  codeEntries(): ScheduleView[] {
    const now = this.#now();
    return [...this.#code.values()].map((entry) => entryView(this.#app, entry, undefined, undefined, now));
  }

  /** @throws ScheduleNotFoundError */
  async get(name: string): Promise<ScheduleView> {
    await this.#ready();
    const code = this.#code.get(name);
    if (code !== undefined) return entryView(this.#app, code, undefined, await this.records.stateOf(name), this.#now());
    const found = await this.records.getRuntimeWithState(name);
    if (found === undefined) throw new ScheduleNotFoundError(name);
    return this.#runtimeView(found.row, found.state, this.#now());
  }

  /**
   * Creates a runtime entry (version 1, running). Nothing is stored when anything is wrong.
   * @throws ConfigError naming the field at fault (`schedule`, `timezone`, `task`, `name`, `note`, …).
   * @throws ScheduleNameTakenError when an entry of the code or of the runtime has its name.
   */
  async create(input: ScheduleInput, actor: Actor): Promise<ScheduleView> {
    const by = requireBy(actor);
    const { note, definition } = splitNote(input, null);
    const entry = compileRuntimeEntry(definition, this.#taskNames);
    if (this.#code.has(entry.name)) throw new ScheduleNameTakenError(entry.name, 'code');
    await this.#ready();
    const row = await this.records.insert(entry.name, runtimeEntryInput(entry) as unknown as Record<string, unknown>, note, by);
    return entryView(this.#app, entry, row, undefined, this.#now());
  }

  /**
   * Changes fields of a runtime entry, if it is still at `version`. Nothing is stored when anything is wrong.
   * @throws CodeEntryReadOnlyError for an entry of the code.
   * @throws ScheduleNotFoundError
   * @throws ScheduleConflictError when someone changed it since `version` (its current version is on the error).
   * @throws ConfigError naming the field at fault.
   */
  async update(name: string, patch: SchedulePatch, options: Actor & { readonly version: number }): Promise<ScheduleView> {
    const by = requireBy(options);
    const version = requireVersion(options.version, true) as number;
    if (this.#code.has(name)) throw new CodeEntryReadOnlyError(name);
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new ConfigError('a change of a schedule entry must be an object of the fields to change', { field: 'entry' });
    if (patch.name !== undefined && patch.name !== name) {
      throw new ConfigError(`name: an entry is not renamed (${JSON.stringify(name)} → ${JSON.stringify(patch.name)}); create the new one and remove this one`, { field: 'name' });
    }
    await this.#ready();
    // Two round trips: the stored entry (the patch is merged into it and the result checked before anything is
    // written), then the write, checked against the version and reading the state back in the same statement.
    const found = await this.records.getRuntimeWithState(name);
    if (found === undefined) throw new ScheduleNotFoundError(name);
    const { note, definition: changes } = splitNote(patch, found.row.note);
    const merged: Record<string, unknown> = { ...found.row.definition };
    for (const [field, value] of Object.entries(changes)) {
      if (value === null) delete merged[field];
      else merged[field] = value;
    }
    const entry = compileRuntimeEntry({ ...merged, name }, this.#taskNames);
    const updated = await this.records.updateWithState(name, runtimeEntryInput(entry) as unknown as Record<string, unknown>, note, by, version);
    return entryView(this.#app, entry, updated.row, updated.state, this.#now());
  }

  /**
   * Removes a runtime entry, with its state; when `version` is given it must be the current one.
   * @throws CodeEntryReadOnlyError for an entry of the code.
   * @throws ScheduleNotFoundError
   * @throws ScheduleConflictError
   */
  async remove(name: string, options: Actor & { readonly version?: number }): Promise<void> {
    const by = requireBy(options);
    const version = requireVersion(options.version, false);
    if (this.#code.has(name)) throw new CodeEntryReadOnlyError(name);
    await this.#ready();
    await this.records.delete(name, version, by);
  }

  /**
   * Pauses an entry, of the code or of the runtime: its fire times are not sent (beat counts them missed, reason
   * `paused`) until it is resumed. Run now and backfill still work.
   * @throws ScheduleNotFoundError
   */
  async pause(name: string, options: Actor & { readonly note?: string | null }): Promise<ScheduleView> {
    const by = requireBy(options);
    const note = requireNote(options.note);
    return this.#setPaused(name, true, note, by);
  }

  /**
   * Resumes an entry: beat sends from its next fire time; the fire times that fell due while it was paused are not
   * caught up (a backfill does that, on purpose).
   * @throws ScheduleNotFoundError
   */
  async resume(name: string, options: Actor): Promise<ScheduleView> {
    const by = requireBy(options);
    return this.#setPaused(name, false, null, by);
  }

  /**
   * Sends one run of the entry now (origin `{ type: 'manual', by }`), claimed as the fire time of this instant. It
   * does not move the entry's watermark. Unless `force`, the entry's overlap policy holds it while its last run has
   * not finished (bounded by the task's time limits and retries, so a lost event never blocks it for ever).
   * @throws ScheduleNotFoundError
   * @throws ConfigError when a runtime entry's stored definition no longer compiles (its task was removed).
   */
  async runNow(name: string, options: Actor & { readonly force?: boolean }): Promise<RunNowResult> {
    const by = requireBy(options);
    const entry = await this.#entry(name);
    if (options.force !== true && entry.overlap !== 'allow') {
      const last = await this.records.lastRunOf(name);
      if (last !== undefined && last.finishedAt === null && Date.parse(last.sentAt) + entryRunHorizonMs(this.#app, entry, this.#sender.client.broker.spec.ladderMs[0] ?? 0) > this.#now()) {
        return { sent: false, reason: 'overlap', running: last.id };
      }
    }
    // Another run now in the same millisecond has that fire time: take the next one.
    let fireMs = this.#now();
    while (!(await claimFire(this.#sender, name, fireMs, 'manual', by))) fireMs += 1;
    return { sent: true, id: await sendFire(this.#sender, entry, fireMs, 'manual', by) };
  }

  /**
   * Sends each fire time of the entry from `from` through `to` once, oldest first, at most `ratePerSecond` a second
   * (origin `{ type: 'backfill', by }`). A fire time already sent (by beat, a run now, an earlier backfill: its claim
   * in Redis, or the history) or being sent is counted already there, never sent again; one beat claimed and could
   * not send is sent. A send that fails stops the backfill with its error (`onProgress` has told what was sent
   * before it; that fire time is left for a later backfill to send).
   * @throws ScheduleNotFoundError
   * @throws BadParameterError naming `from`, `to` or `ratePerSecond` (a range in the future, or of more than
   * `MAX_BACKFILL_FIRE_TIMES` fire times).
   */
  async backfill(name: string, options: BackfillOptions): Promise<BackfillResult> {
    const by = requireBy(options);
    const now = this.#now();
    const fromMs = requireTime(options.from, 'from');
    const toMs = requireTime(options.to, 'to');
    if (toMs > now) throw new BadParameterError('to', `to ${new Date(toMs).toISOString()} is in the future: a backfill sends past fire times (beat sends the rest)`);
    if (fromMs > toMs) throw new BadParameterError('from', `from ${new Date(fromMs).toISOString()} is after to ${new Date(toMs).toISOString()}`);
    const rate = options.ratePerSecond ?? DEFAULT_BACKFILL_RATE;
    if (typeof rate !== 'number' || !(rate > 0 && rate <= 1_000)) throw new BadParameterError('ratePerSecond', `ratePerSecond ${JSON.stringify(rate)} must be a number above 0, at most 1000`);
    const entry = await this.#entry(name);
    const fireTimes = fireTimesBetween(entry, this.#app.timezone, fromMs, toMs, MAX_BACKFILL_FIRE_TIMES);
    let sent = 0;
    let alreadyThere = 0;
    const startedAt = this.#now();
    for (let start = 0; start < fireTimes.length; start += BACKFILL_CHUNK) {
      const chunk = fireTimes.slice(start, start + BACKFILL_CHUNK);
      const known = await this.records.sentAlready(name, chunk.map((ms) => ({ fireTime: new Date(ms).toISOString(), runId: runId(name, ms) })));
      for (const fireMs of chunk) {
        options.signal?.throwIfAborted();
        const fireTime = new Date(fireMs).toISOString();
        let outcome: BackfillProgress['outcome'] = 'already-there';
        if (!known.has(fireTime)) {
          // Paced from the start: the n-th send waits until n / rate seconds have passed. Before the claim, so that
          // a backfill stopped while it waits leaves no claim behind that nothing was sent for.
          const due = startedAt + (sent * 1_000) / rate;
          if (due > this.#now()) await sleep(due - this.#now(), undefined, options.signal ? { signal: options.signal } : undefined);
          if (await claimFire(this.#sender, name, fireMs, 'backfill', by)) {
            await sendFire(this.#sender, entry, fireMs, 'backfill', by);
            outcome = 'sent';
          }
        }
        if (outcome === 'sent') sent += 1;
        else alreadyThere += 1;
        options.onProgress?.({ fireTime, outcome, done: sent + alreadyThere, total: fireTimes.length });
      }
    }
    return { fireTimes: fireTimes.length, sent, alreadyThere };
  }

  /**
   * An entry's next fire times and its recent fires (newest first, each with its run's outcome). A removed entry's
   * fires are still listed while the history keeps them.
   * @throws ScheduleNotFoundError when no entry has that name and the history has no fires of it.
   */
  async history(name: string, options: { readonly limit?: number; readonly before?: string } = {}): Promise<ScheduleHistory> {
    await this.#ready();
    const fires = await this.records.fires(name, options);
    let next: string[] = [];
    try {
      const entry = await this.#entry(name);
      next = upcomingFireTimes(entry, this.#app.timezone, this.#now(), NEXT_RUNS_SHOWN).map((ms) => new Date(ms).toISOString());
    } catch (error) {
      if (!(error instanceof ScheduleNotFoundError || error instanceof ConfigError) || (error instanceof ScheduleNotFoundError && fires.length === 0)) throw error;
    }
    return { next, fires };
  }

  /** The compiled entry of that name, of the code or of the runtime. */
  async #entry(name: string): Promise<ScheduleEntry> {
    const code = this.#code.get(name);
    if (code !== undefined) return code;
    await this.#ready();
    const row = await this.records.getRuntime(name);
    if (row === undefined) throw new ScheduleNotFoundError(name);
    return compileRuntimeEntry(row.definition, this.#taskNames);
  }

  /**
   * Pauses or resumes an entry and returns its view, in one statement: a runtime entry's state is written only if the
   * entry exists, and the entry is read back with it.
   */
  async #setPaused(name: string, paused: boolean, note: string | null, by: string): Promise<ScheduleView> {
    await this.#ready();
    const code = this.#code.get(name);
    if (code !== undefined) return entryView(this.#app, code, undefined, await this.records.setPaused(name, paused, note, by), this.#now());
    const found = await this.records.setRuntimePaused(name, paused, note, by);
    if (found === undefined) throw new ScheduleNotFoundError(name);
    return this.#runtimeView(found.row, found.state, this.#now());
  }

  #runtimeView(row: RuntimeScheduleRow, state: Parameters<typeof entryView>[3], now: number): ScheduleView {
    if (this.#code.has(row.name)) return brokenView(this.#app, row, state, 'an entry of the app\'s code has this name: the code\'s entry is the one dispatched; remove this one');
    try {
      return entryView(this.#app, compileRuntimeEntry(row.definition, this.#taskNames), row, state, now);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return brokenView(this.#app, row, state, `its stored definition no longer fits the app: ${error.message}`);
    }
  }

  /** Checks once that the store's schema is migrated (a missing table would otherwise be a puzzling SQL error). */
  #ready(): Promise<void> {
    this.#migrated ??= assertMigrated(this.records.store).catch((error: unknown) => {
      this.#migrated = undefined;
      throw error;
    });
    return this.#migrated;
  }
}

function requireBy(actor: Actor | undefined): string {
  const by = actor?.by as unknown;
  if (typeof by !== 'string' || by.trim() === '' || by.length > MAX_BY_LENGTH) {
    throw new BadParameterError('by', `by must say who makes the change: a non-empty string of at most ${MAX_BY_LENGTH} characters`);
  }
  return by;
}

function requireNote(note: unknown): string | null {
  if (note === undefined || note === null) return null;
  if (typeof note !== 'string') throw new ConfigError('note must be text', { field: 'note' });
  return note;
}

function requireVersion(version: unknown, required: boolean): number | undefined {
  if (version === undefined && !required) return undefined;
  if (!Number.isInteger(version) || (version as number) < 1) {
    throw new BadParameterError('version', `version ${JSON.stringify(version)} must be the entry's version as last read (a whole number from 1): a change names the version it was made against`);
  }
  return version as number;
}

function requireTime(value: unknown, parameter: 'from' | 'to'): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw new BadParameterError(parameter, `${parameter} ${JSON.stringify(value)} must be a time (a Date, or ISO 8601 such as 2027-01-31T09:00:00Z)`);
  return ms;
}

/** The note apart from the entry's fields; `fallback` when the input does not mention it. */
function splitNote<T extends object>(input: T, fallback: string | null): { note: string | null; definition: Omit<T, 'note'> } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new ConfigError('a schedule entry must be an object { name, task, schedule, … }', { field: 'entry' });
  const { note, ...definition } = input as T & { note?: unknown };
  return { note: 'note' in input ? requireNote(note) : fallback, definition };
}
