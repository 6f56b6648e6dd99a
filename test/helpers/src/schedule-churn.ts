// Runtime schedules changed at a steady rate while beat dispatches them (issue 18: "adding, changing, pausing and
// removing 1,000 entries per second while dispatching loses no update and sends nothing for a removed or paused
// entry after the change is acknowledged"), and the verdict on what beat sent. Shared by the CI test
// (test/integration/scale) and the beat-scale bench's churn mode, which differ only in size and in what they print.
//
// The definition the verdict holds beat to. A change is acknowledged when the client's call resolves (its
// transaction committed a little before). For a fire time F of an entry, its *settled state* is the state the
// entry's last change acknowledged before F left it in, provided the next change had not started by F (its commit
// may fall on either side of F: such a fire is *in flight* and not judged). In its settled state:
//   - paused or removed (or not yet created): nothing may be sent for F (`sentWhileStopped`);
//   - running: only its definition of that change may be sent for F, on that definition's grid (`staleDefinition`).
// Beat guarantees this by reading the entry again after F came due and before claiming it (services/beat's
// ChangeFence), so a change committed before F is always seen; a run it claimed before the change may still go out,
// which the definition allows (its F is before the commit). After the churn, every entry's last change must be what
// beat runs: a running entry sends each fire time of its final definition, with that definition's arguments; a
// paused or removed one sends nothing (`lostUpdates`). The final window opens once every running entry has sent a run
// of its last definition (so a beat slowed by a loaded machine is waited for, not failed).

/** The schedule operations the churn needs: the client library's `client.schedules` has them. */
export interface ChurnSchedules {
  create(input: { name: string; task: string; schedule: { every: string }; args: unknown[]; queue?: string }, actor: { by: string }): Promise<{ version: number | null }>;
  update(name: string, patch: { schedule: { every: string }; args: unknown[] }, options: { by: string; version: number }): Promise<{ version: number | null }>;
  pause(name: string, options: { by: string }): Promise<unknown>;
  resume(name: string, options: { by: string }): Promise<unknown>;
  remove(name: string, options: { by: string }): Promise<void>;
}

export type ChurnOp = 'create' | 'update' | 'pause' | 'resume' | 'remove';
type EntryState = 'absent' | 'running' | 'paused';

/** One change, as the churn made it. */
export interface ChurnChange {
  readonly op: ChurnOp;
  readonly startedAt: number;
  readonly ackAt: number;
  /** The state it leaves the entry in. */
  readonly state: EntryState;
  /** The definition it leaves (the tag in the runs' first argument, and the interval). */
  readonly tag: string;
  readonly everyMs: number;
}

/** One run as it arrived: its entry, fire time, first argument (the tag) and message id. */
export interface ChurnRun {
  readonly entry: string;
  readonly fireMs: number;
  readonly tag: string;
  readonly id: string;
}

/** When beat said it applied a change of an entry (its log lines), and which. */
export interface ChurnApplied {
  readonly entry: string;
  readonly at: number;
  readonly op: ChurnOp;
}

export interface ChurnOptions {
  /** Each change goes through one of these in turn (a client's pool has few connections). */
  readonly schedules: readonly ChurnSchedules[];
  readonly task: string;
  readonly count: number;
  readonly ratePerSecond: number;
  /** At most this many changes awaiting their acknowledgement. Default: 256. */
  readonly inFlight?: number;
  readonly seed?: number;
}

const INTERVALS_MS = [2_000, 3_000];
const BY = { by: 'churn' };

interface Tracked {
  state: EntryState;
  version: number;
  tag: string;
  everyMs: number;
  busy: boolean;
  readonly changes: ChurnChange[];
}

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** `count` runtime entries (every 2 or 3 s), then changes to them at a steady rate until stopped. */
export class ScheduleChurn {
  readonly names: readonly string[];
  readonly #options: ChurnOptions;
  readonly #entries = new Map<string, Tracked>();
  readonly #rnd: () => number;
  #seq = 0;
  #next = 0;
  #failures: string[] = [];

  constructor(options: ChurnOptions) {
    this.#options = options;
    this.names = Array.from({ length: options.count }, (_, i) => `churn-${String(i).padStart(5, '0')}`);
    this.#rnd = random(options.seed ?? 18);
    for (const name of this.names) this.#entries.set(name, { state: 'absent', version: 0, tag: '', everyMs: 0, busy: false, changes: [] });
  }

  /** Creates every entry (running), `concurrency` at a time. */
  async createAll(concurrency = 8): Promise<void> {
    let at = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (at < this.names.length) await this.#change(this.names[at++] as string, 'create');
    }));
  }

  /**
   * Changes entries at `ratePerSecond` for `durationMs` (each entry has one change in flight at most), then waits
   * for the changes in flight. Resolves with how many were made and the rate achieved.
   */
  async run(durationMs: number): Promise<{ changes: number; perSecond: number; failures: readonly string[] }> {
    const { ratePerSecond } = this.#options;
    const cap = this.#options.inFlight ?? 256;
    const started = performance.now();
    const inFlight = new Set<Promise<void>>();
    let issued = 0;
    for (;;) {
      const elapsed = performance.now() - started;
      if (elapsed >= durationMs) break;
      const owed = Math.floor((elapsed / 1_000) * ratePerSecond) - issued;
      for (let i = 0; i < owed && inFlight.size < cap; i++) {
        const name = this.#pick();
        if (name === undefined) break;
        issued += 1;
        const change = this.#change(name, this.#choose(name)).finally(() => inFlight.delete(change));
        inFlight.add(change);
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await Promise.all(inFlight);
    const seconds = (performance.now() - started) / 1_000;
    return { changes: issued, perSecond: issued / seconds, failures: this.#failures };
  }

  /** Every change made to each entry, in order. */
  changes(): ReadonlyMap<string, readonly ChurnChange[]> {
    return new Map([...this.#entries].map(([name, tracked]) => [name, tracked.changes]));
  }

  /** The running entries of which no run of their last definition, fired after it was acknowledged, has arrived yet. */
  notYetRunningLast(runs: readonly ChurnRun[]): string[] {
    const fired = new Map<string, number>();
    for (const run of runs) fired.set(`${run.entry}|${run.tag}`, Math.max(fired.get(`${run.entry}|${run.tag}`) ?? 0, run.fireMs));
    const waiting: string[] = [];
    for (const [name, tracked] of this.#entries) {
      const last = tracked.changes.at(-1);
      if (last === undefined || last.state !== 'running' || last.ackAt === Number.POSITIVE_INFINITY) continue;
      if ((fired.get(`${name}|${last.tag}`) ?? 0) <= last.ackAt) waiting.push(name);
    }
    return waiting;
  }

  #pick(): string | undefined {
    for (let tries = 0; tries < 20; tries++) {
      const name = this.names[Math.floor(this.#rnd() * this.names.length)] as string;
      if (!(this.#entries.get(name) as Tracked).busy) return name;
    }
    return undefined;
  }

  #choose(name: string): ChurnOp {
    const { state } = this.#entries.get(name) as Tracked;
    const roll = this.#rnd();
    if (state === 'absent') return 'create';
    if (state === 'running') return roll < 0.4 ? 'update' : roll < 0.7 ? 'pause' : 'remove';
    return roll < 0.6 ? 'resume' : roll < 0.8 ? 'update' : 'remove';
  }

  async #change(name: string, op: ChurnOp): Promise<void> {
    const tracked = this.#entries.get(name) as Tracked;
    const schedules = this.#options.schedules[this.#next++ % this.#options.schedules.length] as ChurnSchedules;
    tracked.busy = true;
    const tag = `${name}#${++this.#seq}`;
    const everyMs = INTERVALS_MS[(tracked.everyMs === INTERVALS_MS[0] ? 1 : 0)] as number;
    const definition = { schedule: { every: `${everyMs / 1_000}s` }, args: [tag] };
    const startedAt = Date.now();
    try {
      let state = tracked.state;
      let version = tracked.version;
      let after = { tag: tracked.tag, everyMs: tracked.everyMs };
      if (op === 'create') {
        version = (await schedules.create({ name, task: this.#options.task, ...definition }, BY)).version ?? 0;
        state = 'running';
        after = { tag, everyMs };
      } else if (op === 'update') {
        version = (await schedules.update(name, definition, { ...BY, version: tracked.version })).version ?? 0;
        after = { tag, everyMs };
      } else if (op === 'pause') {
        await schedules.pause(name, BY);
        state = 'paused';
      } else if (op === 'resume') {
        await schedules.resume(name, BY);
        state = 'running';
      } else {
        await schedules.remove(name, BY);
        state = 'absent';
        after = { tag: '', everyMs: 0 };
      }
      const ackAt = Date.now();
      Object.assign(tracked, { state, version, ...after });
      tracked.changes.push({ op, startedAt, ackAt, state, ...after });
    } catch (error) {
      // The entry's state is unknown from here: it takes no further change and is not judged.
      this.#failures.push(`${op} ${name}: ${(error as Error).message}`);
      tracked.changes.push({ op, startedAt, ackAt: Number.POSITIVE_INFINITY, state: tracked.state, tag: tracked.tag, everyMs: tracked.everyMs });
      return;
    }
    tracked.busy = false;
  }
}

export interface ChurnVerdict {
  /** Runs judged: their fire time fell in a settled state. */
  readonly judged: number;
  /** Runs whose fire time fell while a change was being made (not judged). */
  readonly inFlight: number;
  /** Runs sent for a fire time after a pause or removal was acknowledged (must be 0). */
  readonly sentWhileStopped: readonly string[];
  /** Runs of a definition replaced before their fire time, or off its grid (must be 0). */
  readonly staleDefinition: readonly string[];
  /**
   * Entries whose last change is not what beat runs (must be 0): a running one that sent no run of its last
   * definition after that change, or anything else in the final window; a paused or removed one that sent anything
   * there. (Fire times of the window not sent at all are a beat that was late or not leading: `unsentInWindow`.)
   */
  readonly lostUpdates: readonly string[];
  /** The final window's fire times of running entries that did not arrive (beat late and coalescing, not a lost update). */
  readonly unsentInWindow: number;
  readonly expectedInWindow: number;
  /** Message ids that arrived more than once. */
  readonly duplicates: number;
  /** Fire times of settled running periods (after the entry's first start) that were not sent: catch-ups coalesced by misfire 'once' among them. */
  readonly unsentWhileRunning: number;
  readonly expectedWhileRunning: number;
  /** Acknowledged change → beat saying it applied it (ms), for the changes matched with a line of beat's. */
  readonly applyMs: readonly number[];
  /**
   * Changes beat did not say it applied on their own, by kind: the entries created before beat started (said
   * in one line), and changes read together with the entry's next one.
   */
  readonly unmatched: Readonly<Record<ChurnOp, number>>;
}

/**
 * Judges what arrived against the changes. `window`: after the churn and a settling time, the span in which every
 * entry must run exactly its final definition. `from`: runs before it are not judged (beat's first start).
 */
export function judgeChurn(changes: ReadonlyMap<string, readonly ChurnChange[]>, runs: readonly ChurnRun[], applied: readonly ChurnApplied[], from: number, window: { fromMs: number; toMs: number }): ChurnVerdict {
  const sentWhileStopped: string[] = [];
  const staleDefinition: string[] = [];
  const lostUpdates: string[] = [];
  let judged = 0;
  let inFlight = 0;
  const ids = new Set<string>();
  let duplicates = 0;
  const byEntry = new Map<string, ChurnRun[]>();
  for (const run of runs) {
    if (ids.has(run.id)) duplicates += 1;
    ids.add(run.id);
    const list = byEntry.get(run.entry) ?? [];
    list.push(run);
    byEntry.set(run.entry, list);
  }
  const clock = (ms: number) => new Date(ms).toISOString().slice(11, 23);
  let unsent = 0;
  let expected = 0;
  let windowUnsent = 0;
  let windowExpected = 0;
  for (const [entry, list] of changes) {
    // An entry whose change failed is not judged (its state is unknown).
    if (list.some((change) => change.ackAt === Number.POSITIVE_INFINITY)) continue;
    const entryRuns = (byEntry.get(entry) ?? []).filter((run) => run.fireMs >= from);
    const sent = new Set(entryRuns.map((run) => `${run.fireMs}|${run.tag}`));
    for (const run of entryRuns) {
      const settled = settledAt(list, run.fireMs);
      if (settled === 'in-flight') {
        inFlight += 1;
        continue;
      }
      judged += 1;
      const what = `${entry} fire ${clock(run.fireMs)} tag ${run.tag}`;
      if (settled === undefined || settled.state !== 'running') {
        sentWhileStopped.push(`${what}: ${settled === undefined ? 'before it was created' : `${settled.op} acknowledged at ${clock(settled.ackAt)}`}`);
      } else if (run.tag !== settled.tag || run.fireMs % settled.everyMs !== 0) {
        staleDefinition.push(`${what}: ${settled.op} to ${settled.tag} (every ${settled.everyMs} ms) acknowledged at ${clock(settled.ackAt)}`);
      }
    }
    // Fire times of settled running periods, from the first change acknowledged after `from`.
    list.forEach((change, i) => {
      if (change.state !== 'running' || change.ackAt < from) return;
      const until = list[i + 1]?.startedAt ?? window.fromMs;
      for (let at = Math.floor(change.ackAt / change.everyMs) * change.everyMs + change.everyMs; at < until; at += change.everyMs) {
        expected += 1;
        if (!sent.has(`${at}|${change.tag}`)) unsent += 1;
      }
    });
    // The final window: exactly the last definition's fire times, or nothing.
    const last = list.at(-1);
    const inWindow = entryRuns.filter((run) => run.fireMs > window.fromMs && run.fireMs <= window.toMs);
    if (last === undefined || last.state !== 'running') {
      if (inWindow.length > 0) lostUpdates.push(`${entry}: ${last?.op ?? 'never created'} last, yet ${inWindow.length} runs in the final window`);
      continue;
    }
    const ours = inWindow.filter((run) => run.tag === last.tag && run.fireMs % last.everyMs === 0);
    if (ours.length !== inWindow.length) {
      lostUpdates.push(`${entry}: last ${last.op} to ${last.tag} (every ${last.everyMs} ms); final window sent ${inWindow.map((run) => `${clock(run.fireMs)} ${run.tag}`).join(', ')}`);
    } else if (!entryRuns.some((run) => run.tag === last.tag && run.fireMs > last.ackAt)) {
      lostUpdates.push(`${entry}: last ${last.op} to ${last.tag} (every ${last.everyMs} ms) acknowledged at ${clock(last.ackAt)}; no run of it since`);
    }
    const got = new Set(ours.map((run) => run.fireMs));
    for (let at = Math.floor(window.fromMs / last.everyMs) * last.everyMs + last.everyMs; at <= window.toMs; at += last.everyMs) {
      windowExpected += 1;
      if (!got.has(at)) windowUnsent += 1;
    }
  }
  const { applyMs, unmatched } = matchApplied(changes, applied);
  return {
    judged, inFlight, sentWhileStopped, staleDefinition, lostUpdates, duplicates, unsentWhileRunning: unsent, expectedWhileRunning: expected,
    unsentInWindow: windowUnsent, expectedInWindow: windowExpected, applyMs, unmatched,
  };
}

/** The change whose state holds at `fireMs`, `'in-flight'` when one was being made then, `undefined` before the first. */
function settledAt(list: readonly ChurnChange[], fireMs: number): ChurnChange | 'in-flight' | undefined {
  let settled: ChurnChange | undefined;
  for (const change of list) {
    if (change.startedAt >= fireMs) break;
    if (change.ackAt >= fireMs) return 'in-flight';
    settled = change;
  }
  return settled;
}

// Each change with the first line of beat's of its kind about its entry, at or after the change started.
function matchApplied(changes: ReadonlyMap<string, readonly ChurnChange[]>, applied: readonly ChurnApplied[]): { applyMs: number[]; unmatched: Record<ChurnOp, number> } {
  const lines = new Map<string, ChurnApplied[]>();
  for (const line of [...applied].sort((a, b) => a.at - b.at)) {
    const list = lines.get(line.entry) ?? [];
    list.push(line);
    lines.set(line.entry, list);
  }
  const applyMs: number[] = [];
  const unmatched: Record<ChurnOp, number> = { create: 0, update: 0, pause: 0, resume: 0, remove: 0 };
  for (const [entry, list] of changes) {
    const said = lines.get(entry) ?? [];
    let at = 0;
    list.forEach((change, i) => {
      // Not after the entry's next change was acknowledged: a line then may be that change's.
      const before = list[i + 1]?.ackAt ?? Number.POSITIVE_INFINITY;
      while (at < said.length && (said[at] as ChurnApplied).at < change.startedAt) at++;
      let found = at;
      while (found < said.length && (said[found] as ChurnApplied).op !== change.op && (said[found] as ChurnApplied).at < before) found++;
      const line = said[found];
      if (line === undefined || line.op !== change.op || line.at >= before || change.ackAt === Number.POSITIVE_INFINITY) {
        unmatched[change.op] += 1;
        return;
      }
      applyMs.push(line.at - change.ackAt);
      at = found + 1;
    });
  }
  return { applyMs, unmatched };
}

/** What beat's log line says it applied to an entry, if it is one of those lines. */
export function appliedChange(line: Record<string, unknown>): ChurnApplied | undefined {
  const msg = String(line.msg ?? '');
  const entry = typeof line.entry === 'string' ? line.entry : undefined;
  const at = typeof line.time === 'number' ? line.time : Date.parse(String(line.time));
  if (entry === undefined || !Number.isFinite(at)) return undefined;
  const op: ChurnOp | undefined = /^runtime entry \S+ added/.test(msg) ? 'create'
    : / changed: its runs follow the new definition$/.test(msg) ? 'update'
      : / paused: its runs are counted, not sent$/.test(msg) ? 'pause'
        : / resumed: it runs from its next fire time$/.test(msg) ? 'resume'
          : / removed: no further runs$/.test(msg) ? 'remove' : undefined;
  return op === undefined ? undefined : { entry, at, op };
}

/** p50, p99 and max of some figures. */
export function percentiles(values: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN };
}
