import { Backoff, SchemaNotReadyError, type Logger } from '@nightshift/core';
import type { EntrySource, LiveEntry } from './entry-source.ts';
import { holdYoungGeneration } from './young-generation.ts';

export interface EntrySetParts {
  readonly source: EntrySource;
  /** What is dispatched until the first load succeeds: the code's entries. */
  readonly initial: readonly LiveEntry[];
  /** How often the whole list is read again, so that a lost notification heals. */
  readonly reconcileEveryMs: number;
  readonly log: Logger;
}

/** What the set tells of changes: a whole new list, or a few entries changed and removed. */
export interface EntryChanges {
  readonly all: (entries: readonly LiveEntry[]) => void;
  readonly some: (changed: readonly LiveEntry[], removed: readonly string[]) => void;
}

/** Notifications gathered this long are read in one query (1,000 changes a second read 50 times, not 1,000). */
const GATHER_CHANGES_MS = 20;
/** At most this many names per read of a few. */
const MAX_NAMES_PER_READ = 1_000;
/**
 * Reads of a few changes take the source's fingerprint along at most this often: with 100,000 entries it costs
 * PostgreSQL about 40 ms, and 1,000 changes a second come in 50 reads a second. A read without it leaves the
 * fingerprint of the list as it was, so the next reconcile reads the whole list (as it would anyway while changes
 * keep coming: the fingerprint moves on with every one).
 */
const FINGERPRINT_EVERY_MS = 1_000;

/**
 * A store whose schema is not migrated yet is asked again this often: at a first start the alerter migrates it a
 * few seconds after beat starts, and the runtime entries should follow at once, not a reconcile period later.
 */
const SCHEMA_RETRY_MS = 1_000;
/** Waiting this long for a migration is no longer a first start: said as a warning, with what to do. */
const SCHEMA_WAIT_WARN_MS = 60_000;

// Watching again after the source's watch ended with an error: 1 s doubling to 15 s.
const WATCH_BACKOFF = new Backoff({ base: 1_000, factor: 2, max: 15_000, jitter: 0 }, 'beat entry watch');

/**
 * The entries this replica knows, kept current from its source: when the source names an entry that changed, that
 * entry alone is read again (`loadSome`); when it says any may have (a reconnect), and every `reconcileEveryMs` in
 * any case (unless the source's fingerprint says nothing changed), the whole list. Reads run one at a time. When a read fails the last list stands (the code's entries
 * and the runtime entries last loaded), said once in the log; the next read that succeeds says so too.
 */
export class EntrySet {
  readonly #parts: EntrySetParts;
  readonly #stopping = new AbortController();
  #entries: readonly LiveEntry[];
  /** The entries by name, after changes to a few, until `entries` is read again. */
  #byName: Map<string, LiveEntry> | undefined;
  #onChange: EntryChanges = { all: () => {}, some: () => {} };
  /** Reads run one after another, so that an older read never overwrites a newer one. */
  #serial: Promise<unknown> = Promise.resolve();
  readonly #pending = new Set<string>();
  #gathering: NodeJS.Timeout | undefined;
  #loading: Promise<boolean> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #failingSince: number | undefined;
  /** Set while the store's schema is not migrated yet: the next read comes soon, and the wait was said once. */
  #schemaRetry: NodeJS.Timeout | undefined;
  #schemaWaitWarned = false;
  #watching: Promise<void> = Promise.resolve();
  /** The source's fingerprint when the list was last loaded. */
  #loadedAt: string | undefined;
  /** When a read of a few changes last took the fingerprint along (ms). */
  #fingerprintReadAt = 0;

  constructor(parts: EntrySetParts) {
    this.#parts = parts;
    this.#entries = parts.initial;
  }

  get entries(): readonly LiveEntry[] {
    if (this.#byName !== undefined) {
      this.#entries = Object.freeze([...this.#byName.values()]);
      this.#byName = undefined;
    }
    return this.#entries;
  }

  /** Loads the entries, then keeps them current; `onChange` hears of every list that differs, and of every change. */
  start(onChange: EntryChanges): void {
    this.#onChange = onChange;
    void this.refresh();
    this.#schedule();
    const { watch } = this.#parts.source;
    if (watch !== undefined) this.#watching = this.#watch(watch.bind(this.#parts.source));
  }

  /**
   * Reads the entries now (joining a read in flight, then reading once more so that a change made during it is
   * seen: with the source's fingerprint, only if it moved since that read began — a leader taking over while its
   * first read is in flight would otherwise read 100,000 rows twice, a second's CPU and as much garbage again).
   * Resolves with whether the list is current; never rejects.
   */
  refresh(): Promise<boolean> {
    if (this.#loading !== undefined) {
      this.#again = true;
      return this.#loading;
    }
    const loading = this.#serially(() => this.#load()).finally(() => {
      this.#loading = undefined;
      if (this.#again && !this.#stopping.signal.aborted) {
        this.#again = false;
        void this.#reconcile();
      }
    });
    this.#loading = loading;
    return loading;
  }

  /** The source says this entry is not as loaded any more: it is read again (as its notification would have it). */
  stale(name: string): void {
    this.#changed(name);
  }

  async stop(): Promise<void> {
    this.#stopping.abort();
    clearTimeout(this.#timer);
    clearTimeout(this.#gathering);
    clearTimeout(this.#schemaRetry);
    await Promise.allSettled([this.#loading, this.#watching, this.#serial]);
  }

  async #load(): Promise<boolean> {
    const { source, log } = this.#parts;
    let loaded: readonly LiveEntry[];
    let fingerprint: string | undefined;
    // A first read builds every entry (100,000 of them, with PostgreSQL), all of which live on.
    const releaseYoung = holdYoungGeneration();
    try {
      // Read before the rows: a change made meanwhile shows in the next fingerprint, and is loaded then.
      fingerprint = await source.fingerprint?.();
      loaded = await source.load();
    } catch (error) {
      this.#failed(error as Error);
      return false;
    } finally {
      releaseYoung();
    }
    this.#loadedAt = fingerprint;
    if (this.#stopping.signal.aborted) return false;
    if (this.#failingSince !== undefined) {
      const runtime = loaded.filter((live) => live.entry.source === 'runtime').length;
      const waited = { downForMs: Date.now() - this.#failingSince, runtimeEntries: runtime };
      if (this.#schemaRetry !== undefined) log.info(waited, `the store's schema is migrated: ${runtime} runtime entries loaded, every entry's state current`);
      else log.info(waited, `runtime schedules readable again: ${runtime} runtime entries, every entry's state current`);
      this.#failingSince = undefined;
      this.#schemaRetry = undefined;
      this.#schemaWaitWarned = false;
    }
    const before = this.entries;
    this.#entries = loaded;
    if (!sameEntries(before, loaded)) this.#onChange.all(loaded);
    return true;
  }

  #serially<T>(read: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(read, read);
    this.#serial = run.catch(() => {});
    return run;
  }

  // One entry changed (or `'*'`: any may have).
  #changed(name: string): void {
    if (this.#stopping.signal.aborted) return;
    if (this.#parts.source.loadSome === undefined) {
      void this.refresh();
      return;
    }
    // After a (re)connect: the whole list, unless the fingerprint says nothing changed since it was loaded (a
    // change made after the LISTEN would be announced by name).
    if (name === '*') {
      void (this.#loading ?? Promise.resolve()).then(() => this.#reconcile());
      return;
    }
    this.#pending.add(name);
    this.#gathering ??= setTimeout(() => {
      this.#gathering = undefined;
      void this.#serially(() => this.#loadPending());
    }, GATHER_CHANGES_MS);
  }

  async #loadPending(): Promise<void> {
    const { source } = this.#parts;
    while (this.#pending.size > 0 && !this.#stopping.signal.aborted) {
      const names = [...this.#pending].slice(0, MAX_NAMES_PER_READ);
      for (const name of names) this.#pending.delete(name);
      let read: { changed: LiveEntry[]; removed: string[] };
      let fingerprint: string | undefined;
      const fingerprinted = Date.now() - this.#fingerprintReadAt >= FINGERPRINT_EVERY_MS;
      try {
        if (fingerprinted) {
          this.#fingerprintReadAt = Date.now();
          fingerprint = await source.fingerprint?.();
        }
        read = await (source.loadSome as NonNullable<EntrySource['loadSome']>)(names);
      } catch (error) {
        // The reconcile reads the whole list instead (its fingerprint no longer matches anything).
        this.#loadedAt = undefined;
        this.#failed(error as Error);
        return;
      }
      if (this.#stopping.signal.aborted) return;
      // With every notification read, what was loaded is what the source had when the fingerprint was read.
      if (this.#loadedAt !== undefined && fingerprinted) this.#loadedAt = fingerprint;
      const byName = this.#byName ?? new Map(this.#entries.map((live) => [live.entry.name, live]));
      this.#byName = byName;
      const changed = read.changed.filter((live) => !sameEntry(byName.get(live.entry.name), live));
      const removed = read.removed.filter((name) => byName.has(name));
      for (const live of changed) byName.set(live.entry.name, live);
      for (const name of removed) byName.delete(name);
      if (changed.length > 0 || removed.length > 0) this.#onChange.some(changed, removed);
    }
  }

  // One line per outage: the first failure says what beat does meanwhile, later ones are detail.
  #failed(error: Error): void {
    if (error instanceof SchemaNotReadyError) {
      this.#waitForSchema(error);
      return;
    }
    const { log } = this.#parts;
    const line = { err: { message: error.message } };
    if (this.#failingSince !== undefined) {
      log.debug(line, 'runtime schedules still unreadable');
      return;
    }
    this.#failingSince = Date.now();
    const entries = this.entries;
    const runtime = entries.filter((live) => live.entry.source === 'runtime').length;
    const code = entries.length - runtime;
    log.warn({ ...line, codeEntries: code, runtimeEntries: runtime },
      `cannot read the runtime schedules (${error.message}): dispatching the code's ${code} entries and the ${runtime} runtime entries last loaded; `
      + 'runtime changes and pauses wait until PostgreSQL answers');
  }

  // A first start: beat is up before the alerter has migrated the store. Said once as what happens (not a warning,
  // nothing is wrong yet), asked again every second; a warning only when the wait has become an outage.
  #waitForSchema(error: SchemaNotReadyError): void {
    const { log } = this.#parts;
    const code = this.entries.filter((live) => live.entry.source !== 'runtime').length;
    if (this.#failingSince === undefined) {
      this.#failingSince = Date.now();
      log.info({ schema: error.schema, codeEntries: code },
        `the store's schema "${error.schema}" is not migrated yet (the alerter migrates it as it starts, or run "nightshift db migrate"): `
        + `dispatching the code's ${code} entries; runtime schedules load once it is`);
    } else if (!this.#schemaWaitWarned && Date.now() - this.#failingSince >= SCHEMA_WAIT_WARN_MS) {
      this.#schemaWaitWarned = true;
      log.warn({ err: { message: error.message }, schema: error.schema, waitedMs: Date.now() - this.#failingSince },
        `cannot read the runtime schedules (${error.message}): dispatching the code's ${code} entries only; runtime schedules and pauses wait for the migration`);
    }
    clearTimeout(this.#schemaRetry);
    if (this.#stopping.signal.aborted) return;
    this.#schemaRetry = setTimeout(() => void this.refresh(), SCHEMA_RETRY_MS);
  }

  #schedule(): void {
    if (this.#stopping.signal.aborted) return;
    this.#timer = setTimeout(() => {
      void this.#reconcile().finally(() => this.#schedule());
    }, this.#parts.reconcileEveryMs);
  }

  // With a fingerprint, a reconcile that finds nothing changed since the last load reads no rows (with 100,000
  // runtime entries a full read costs a beat about a second of CPU, every period).
  async #reconcile(): Promise<void> {
    const { fingerprint } = this.#parts.source;
    if (fingerprint !== undefined && this.#loadedAt !== undefined && this.#failingSince === undefined) {
      const now = await fingerprint.call(this.#parts.source).catch(() => undefined);
      if (now !== undefined && now === this.#loadedAt) return;
    }
    await this.refresh();
  }

  async #watch(watch: NonNullable<EntrySource['watch']>): Promise<void> {
    const signal = this.#stopping.signal;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        await watch((name) => this.#changed(name), signal);
        attempt = 0;
      } catch (error) {
        this.#parts.log.debug({ err: { message: (error as Error).message } }, 'not listening for schedule changes; the reconcile still reads them');
      }
      if (!signal.aborted) await WATCH_BACKOFF.sleep(Math.max(1, attempt), signal).catch(() => {});
    }
  }
}

function sameEntries(a: readonly LiveEntry[], b: readonly LiveEntry[]): boolean {
  if (a.length !== b.length) return false;
  return a.every((live, i) => sameEntry(live, b[i] as LiveEntry));
}

function sameEntry(live: LiveEntry | undefined, other: LiveEntry): boolean {
  return live !== undefined && live.entry.name === other.entry.name && live.revision === other.revision && live.paused === other.paused && live.resumedAt === other.resumedAt;
}
