import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '@nightshift/core';
import {
  dueRuns, entryZone, formatInZone, graceEnd, jitterOffsetMs, nextFireTime, planRuns, runsToKeep, type DueRuns, type ScheduleEntry,
} from '@nightshift/schedule';
import type { ChangeFence } from './change-fence.ts';
import type { DispatchOutcome, Dispatcher, Fire, PreparedRun } from './dispatcher.ts';
import type { LiveEntry } from './entry-source.ts';
import { reportMisfires, reportStateLost, type Reporting } from './entry-reports.ts';
import type { BeatMetrics } from './metrics.ts';
import type { MissedFires } from './missed-fires.ts';
import type { OverlapGate } from './overlap.ts';
import type { RunLedger } from './run-ledger.ts';

export interface EntryLoopParts {
  /** The app's zone: an entry without its own reads its cron there. */
  readonly zone: string;
  readonly ledger: RunLedger;
  readonly dispatcher: Dispatcher;
  readonly overlap: OverlapGate;
  readonly missed: MissedFires;
  readonly metrics: BeatMetrics;
  readonly log: Logger;
  /** Asked before due fires are claimed or counted: the entry may have changed since it was loaded. Default: none. */
  readonly fence?: ChangeFence;
  readonly now?: () => number;
}

/** How often a run held by `buffer-one` asks again whether the one before it finished. */
const BUFFER_POLL_MS = 1_000;
/**
 * An entry the fence found changed waits this long before it asks again; its change (read at once) restarts it
 * sooner, in its new state.
 */
const CHANGED_RECHECK_MS = 500;

/**
 * What stops one entry: `aborted` once it changes or goes (or its leader stops); `signal` for a wait that must end
 * then. The leader's `EntryEngine` makes that signal only when a wait asks for it (a `buffer-one` entry holding a
 * run): 100,000 entries each with a controller and a signal of their own cost a leader some 13 MB.
 */
export interface EntryStop {
  readonly aborted: boolean;
  readonly signal: AbortSignal;
}

/** What `catchUp` leaves an entry waiting for: the moment it is next due, or why it waits for nothing. */
export type NextDue = number | 'ended' | 'stopped' | 'not-leader';

/**
 * Dispatches one entry while this replica leads (until `stop` aborts or the lease is lost). `begin` finds where
 * the entry starts (its watermark in Redis); each `catchUp` takes the fires that came due since the watermark
 * (each due at its fire time plus its jitter offset, none before `startAt` or after `endAt`), lets its misfire
 * policy choose what to send (on time, that is the one fire just due), sends them one after another through its
 * overlap policy, and says when the entry is next due; the leader's `FireClock` calls it again then. A paused
 * entry's due fires are counted missed (`paused`) and its watermark moves on. Fire times come from the schedule
 * alone, so lateness never accumulates.
 * `leading` aborts when this replica stops leading; a run being published then is given up. `stop` (which it
 * implies) also aborts when the entry changes or goes: a run being published is finished first.
 */
export class EntryLoop {
  // A leader holds one of these per entry (100,000 of them): every field costs 0.8 MB, so what can be derived from
  // the entry or from the parts (shared by all of them) is not kept.
  readonly #live: LiveEntry;
  readonly #parts: EntryLoopParts;
  readonly #stop: EntryStop;
  readonly #leading: AbortSignal;
  /** Made when first needed: most entries never report a misfire, and 100,000 of them would each carry one. */
  #reportingOnce: Reporting | undefined;
  /** The watermark: every fire time up to it is handled (sent, or counted missed). */
  #last = 0;
  /** Redis lost beat's state: what the first catch-up does not send is counted `state_lost`. */
  #stateLost = false;
  /** The message of the next run, built ahead (`prepare`); dropped once that run is handled. */
  #prepared: PreparedRun | undefined;
  /**
   * The last two answers of `#firstAfter` (after → fire time; `undefined` for none). One catch-up on time asks for
   * the fire time after the watermark and the one after that (to know only one is due, for its grace, for the next
   * wake-up) several times over; worked out once each, and ahead of the boundary (`prepare`), a boundary of 2,000
   * runs does no schedule math in front of its sends.
   */
  #askedA = Number.NaN;
  #fireA: number | undefined;
  #askedB = Number.NaN;
  #fireB: number | undefined;

  constructor(live: LiveEntry, parts: EntryLoopParts, stop: EntryStop, leading: AbortSignal) {
    this.#live = live;
    this.#parts = parts;
    this.#stop = stop;
    this.#leading = leading;
  }

  get #entry(): ScheduleEntry {
    return this.#live.entry;
  }

  get #zone(): string {
    return entryZone(this.#live.entry, this.#parts.zone);
  }

  get #now(): () => number {
    return this.#parts.now ?? Date.now;
  }

  get #reporting(): Reporting {
    const { metrics, missed, log } = this.#parts;
    this.#reportingOnce ??= { metrics, missed, log, zone: this.#zone, firstAfter: (ms) => this.#firstAfter(ms) };
    return this.#reportingOnce;
  }

  /**
   * Finds the entry's watermark (and what it means after a change, a resumption, or Redis losing beat's state).
   * `'new'`: Redis had never seen the entry, its runs start from now (the caller says so).
   */
  async begin(): Promise<'ok' | 'new' | 'not-leader'> {
    const { ledger } = this.#parts;
    const entry = this.#entry;
    const started = await ledger.start(entry.name, this.#now());
    if (started === 'not-leader') return started;
    this.#last = started.lastMs;
    // After Redis lost beat's state, the runs the misfire policy does not send are counted as lost with it.
    this.#stateLost = started.state === 'lost' ? reportStateLost(entry, started, this.#reporting) : false;
    if ((await this.#continueAfterChanges()) === 'not-leader') return 'not-leader';
    if (entry.overlap !== 'allow') {
      const sent = await ledger.lastSent(entry.name, started.lastMs).catch(() => undefined);
      if (sent !== undefined) this.#parts.overlap.sent(entry.name, sent);
    }
    return started.state === 'new' ? 'new' : 'ok';
  }

  /** Handles every fire due now; resolves with when the entry is next due (or why never). */
  async catchUp(): Promise<NextDue> {
    const { log, metrics } = this.#parts;
    const entry = this.#entry;
    while (!this.#stop.aborted) {
      const wokeAt = this.#now();
      const next = this.#firstAfter(this.#last);
      // Nothing after the watermark has come yet: nothing is due (the common case, and the cheap one — working out
      // the due runs reads the schedule backwards, which a leader starting with 100,000 entries would do for each).
      const due = next === undefined || next > wokeAt ? undefined : this.#dueOnTime(next, wokeAt) ?? this.#due(wokeAt);
      const newest = due?.newest.at(-1);
      if (due !== undefined && newest !== undefined) {
        // Read after the fires came due: a change committed before them is seen, and they are left to its new state.
        if (this.#parts.fence !== undefined && !(await this.#parts.fence.allows(this.#live))) {
          // Its new state decides about the fire claimed ahead, as if it had never been claimed.
          await this.release();
          return this.#stop.aborted ? 'stopped' : this.#now() + CHANGED_RECHECK_MS;
        }
        const through = this.#live.paused ? await this.#skipPaused(due, newest) : await this.#send(due, wokeAt, this.#stateLost);
        this.#stateLost = false;
        if (through === 'not-leader') return through;
        if (this.#stop.aborted) return 'stopped';
        this.#last = Math.max(this.#last, through);
        continue;
      }
      if (next === undefined) {
        log.info({ entry: entry.name, endAt: new Date(entry.endAt ?? 0).toISOString() }, `entry ${entry.name} has ended: no fire time after its endAt`);
        metrics.nextFire(entry.name, undefined);
        return 'ended';
      }
      const dueAt = next + this.#offset(next);
      metrics.nextFire(entry.name, dueAt);
      return dueAt;
    }
    return 'stopped';
  }

  /**
   * A changed definition continues after the change (the fire times before it were the old definition's); a
   * resumed entry after its resumption, the fire times it was paused for counted `paused` if nobody counted them
   * yet (beat was not leading, or the resumption arrived with them).
   */
  async #continueAfterChanges(): Promise<'ok' | 'not-leader'> {
    const { changedAt, resumedAt } = this.#live;
    const { ledger, log } = this.#parts;
    const entry = this.#entry;
    const from = this.#last;
    if (changedAt !== undefined && changedAt > this.#last) {
      const skipped = dueRuns(entry.schedule, this.#last, changedAt, this.#zone, 1).total;
      if (skipped > 0) log.info({ entry: entry.name, changedAt: new Date(changedAt).toISOString(), skipped }, `entry ${entry.name} changed: its fire times start after the change (${skipped} of the definition before not sent)`);
      this.#last = changedAt;
    }
    if (resumedAt !== undefined && resumedAt > this.#last) {
      const paused = this.#dueBetween(this.#last, resumedAt);
      const newest = paused.newest.at(-1);
      if (newest !== undefined) this.#countPaused(paused, newest);
      this.#last = resumedAt;
    }
    if (this.#last === from) return 'ok';
    return (await ledger.advance(entry.name, this.#last)) === 'not-leader' ? 'not-leader' : 'ok';
  }

  /** The fire times due now: after the watermark and `startAt`, up to now and `endAt`, each past its jitter offset. */
  #due(nowMs: number): DueRuns {
    let until = Math.min(nowMs, this.#entry.endAt ?? Number.POSITIVE_INFINITY);
    for (;;) {
      const due = this.#dueBetween(this.#last, until);
      const newest = due.newest.at(-1);
      // A fire time whose offset has not passed is not due yet, nor is any after it.
      if (newest === undefined || newest + this.#offset(newest) <= nowMs) return due;
      until = newest - 1;
    }
  }

  /**
   * What `#due` answers when only `next` (the first fire time after the watermark) has come, the common case of an
   * entry woken on time, found without reading the schedule backwards: `next` is due (past its offset) and the fire
   * time after it is not (not yet come, past its offset, or past `endAt`). `undefined` when that is not the case.
   */
  #dueOnTime(next: number, nowMs: number): DueRuns | undefined {
    if (next + this.#offset(next) > nowMs) return undefined;
    const following = this.#firstAfter(next);
    if (following !== undefined && following + this.#offset(following) <= nowMs) return undefined;
    return { newest: [next], total: 1, atLeast: false };
  }

  /**
   * Works out ahead what the next wake-up will need (the fire time after the next one, its entry read again, the
   * next run's message, and its claim), so that a boundary where many entries are due spends its time sending. It sends nothing: whether
   * the run goes is decided when it is due, as always (the entry read again first, see `ChangeFence`); a run
   * claimed ahead that does not go is unclaimed (`release`) or counted missed on its claim.
   */
  prepare(): void {
    const next = this.#firstAfter(this.#last);
    if (next === undefined) return;
    this.#firstAfter(next);
    // The entry as its source has it now, for the check when it is due (see `ChangeFence`).
    this.#parts.fence?.readAhead(this.#live);
    // A claim made ahead is the next wake-up's to use or undo: never dropped for another.
    if (this.#live.paused || this.#prepared?.claimed !== undefined) return;
    const prepared = this.#parts.dispatcher.prepare(this.#entry, next);
    // The overlap policies that hold a run (`skip`, `buffer-one`) decide when it is due whether to claim it at all,
    // and the first catch-up after Redis lost beat's state decides what it may send: those claim when due.
    if (prepared === undefined || this.#entry.overlap !== 'allow' || this.#stateLost) {
      this.#prepared = prepared;
      return;
    }
    // Failing (Redis unreachable), it is claimed when due, as before.
    const claimed = this.#parts.ledger.claim(this.#entry.name, next, true).catch(() => undefined);
    this.#prepared = { ...prepared, claimed };
  }

  /** Whether a run claimed ahead (`prepare`) may still wait to be sent or undone (`release`). */
  get claimedAhead(): boolean {
    return this.#prepared?.claimed !== undefined;
  }

  /**
   * Undoes the claim made ahead for a run not sent (the entry changed, paused or went before it was due, or beat
   * stops): the claim goes (a claim made ahead did not move the watermark), so that whoever decides next about that
   * fire time (the entry's new state, the next leader) finds it unclaimed. Called by the leader's engine as the entry stops.
   */
  async release(): Promise<void> {
    const prepared = this.#prepared;
    this.#prepared = undefined;
    if (prepared?.claimed === undefined || (await prepared.claimed) !== 'claimed') return;
    const { ledger, log } = this.#parts;
    // Not undone (the lease is gone, or Redis failed): the next leader finds it stranded and checks the entry when it
    // is due (it says how many it found). A leader losing its lease would otherwise say this once per entry.
    const undone = await ledger.unclaim(this.#entry.name, prepared.scheduledForMs).catch((error: Error) => error.message);
    if (undone !== 'ok') log.debug({ entry: this.#entry.name, scheduledFor: new Date(prepared.scheduledForMs).toISOString(), why: undone }, 'claim made ahead not undone; the next leader decides about the run');
  }

  #dueBetween(afterMs: number, untilMs: number): DueRuns {
    const after = Math.max(afterMs, (this.#entry.startAt ?? Number.NEGATIVE_INFINITY) - 1);
    return dueRuns(this.#entry.schedule, after, Math.min(untilMs, this.#entry.endAt ?? Number.POSITIVE_INFINITY), this.#zone, runsToKeep(this.#entry.misfire) + 1);
  }

  /** The first fire time after `ms` (not before `startAt`); `undefined` past `endAt`. */
  #firstAfter(ms: number): number | undefined {
    if (ms === this.#askedA) return this.#fireA;
    if (ms === this.#askedB) return this.#fireB;
    const next = nextFireTime(this.#entry.schedule, Math.max(ms, (this.#entry.startAt ?? Number.NEGATIVE_INFINITY) - 1), this.#zone);
    const fire = next > (this.#entry.endAt ?? Number.POSITIVE_INFINITY) ? undefined : next;
    // The newer answer replaces the older.
    this.#askedB = this.#askedA;
    this.#fireB = this.#fireA;
    this.#askedA = ms;
    this.#fireA = fire;
    return fire;
  }

  #offset(fireMs: number): number {
    return jitterOffsetMs(this.#entry.name, fireMs, this.#entry.jitterMs);
  }

  /** A paused entry's due fire times: counted, and handled. */
  async #skipPaused(due: DueRuns, newest: number): Promise<number | 'not-leader'> {
    this.#countPaused(due, newest);
    return (await this.#parts.ledger.advance(this.#entry.name, newest)) === 'not-leader' ? 'not-leader' : newest;
  }

  #countPaused(due: DueRuns, newest: number): void {
    const entry = this.#entry;
    const from = this.#firstAfter(this.#last) ?? newest;
    this.#parts.missed.record(entry, { reason: 'paused', from, through: newest, count: due.total });
    this.#parts.log.info({ entry: entry.name, scheduledFor: new Date(newest).toISOString(), missed: { paused: due.total } },
      `entry ${entry.name} is paused: ${due.total === 1 ? `run ${formatInZone(newest, this.#zone)}` : `${due.total} runs up to ${formatInZone(newest, this.#zone)}`} not sent`);
  }

  /**
   * Sends what the misfire policy chooses of `due` and moves the watermark to the newest fire time (a claim moves
   * it too); resolves with that fire time. Stopped midway, it leaves the watermark at the last run it handled.
   */
  async #send(due: DueRuns, wokeAt: number, stateLost: boolean): Promise<number | 'not-leader'> {
    const entry = this.#entry;
    const policy = entry.misfire;
    const newest = due.newest.at(-1) as number;
    const nextAfter = (ms: number) => this.#firstAfter(ms) ?? Number.POSITIVE_INFINITY;
    // Lateness counts from when a fire is due: its fire time plus its offset.
    const plan = planRuns(due, wokeAt - this.#offset(newest), policy, nextAfter);
    reportMisfires(entry, due, plan, this.#last, this.#reporting, stateLost);
    // Claimed ahead and not to be sent (it came due late, past its grace): counted above, and said so on its claim,
    // so that no next leader takes it for a run left unsent.
    const prepared = this.#prepared;
    if (prepared?.claimed !== undefined && !plan.send.includes(prepared.scheduledForMs)) {
      this.#prepared = undefined;
      if ((await prepared.claimed) === 'claimed') await this.#parts.ledger.record(entry.name, prepared.scheduledForMs, { state: 'missed', reason: 'misfire' });
    }
    let outcome: DispatchOutcome | undefined;
    for (const run of plan.send) {
      const dueAt = run + this.#offset(run);
      const fire: Fire = { entry, scheduledForMs: run, dueAtMs: dueAt, deadlineMs: graceEnd(policy, run, nextAfter(run)) - run + dueAt };
      outcome = await this.#overlapThenDispatch(fire);
      if (outcome === 'not-leader') return outcome;
      if (this.#stop.aborted) return newest;
    }
    // Each run sent (or refused) moved the watermark to its fire time; the newest may not have been one of them. A
    // run found `handled` may hold only a claim made ahead by a leader before (a claim made ahead does not move it).
    const moved = plan.send.at(-1) === newest && outcome !== 'handled';
    if (!moved && (await this.#parts.ledger.advance(entry.name, newest)) === 'not-leader') return 'not-leader';
    return newest;
  }

  async #overlapThenDispatch(fire: Fire): Promise<DispatchOutcome> {
    const { dispatcher, overlap, missed, log } = this.#parts;
    const entry = this.#entry;
    const prepared = this.#prepared;
    this.#prepared = undefined;
    if (entry.overlap === 'allow') return dispatcher.dispatch(fire, this.#leading, undefined, prepared);
    const running = await overlap.running(entry);
    if (running === undefined) return dispatcher.dispatch(fire, this.#leading, undefined, prepared);
    if (entry.overlap === 'buffer-one') {
      log.info({ entry: entry.name, scheduledFor: new Date(fire.scheduledForMs).toISOString(), running: running.id }, 'the last run has not finished: this one waits for it (overlap buffer-one)');
      return dispatcher.dispatch(fire, this.#leading, () => this.#waitForFinish(fire));
    }
    missed.record(entry, { reason: 'overlap', from: fire.scheduledForMs, through: fire.scheduledForMs, count: 1 });
    log.info({ entry: entry.name, scheduledFor: new Date(fire.scheduledForMs).toISOString(), running: running.id, runningSince: new Date(running.sentAt).toISOString() },
      'run not sent: the last run has not finished (overlap skip)');
    return (await this.#parts.ledger.advance(entry.name, fire.scheduledForMs)) === 'not-leader' ? 'not-leader' : 'missed';
  }

  /**
   * `buffer-one`: holds a claimed run until the entry's last run has finished, counting the fires that come due
   * meanwhile as `overlap`. Resolves with the deadline to publish by (as much grace as it had when due), or
   * `undefined` when the entry stops first.
   */
  async #waitForFinish(fire: Fire): Promise<number | undefined> {
    const { ledger, overlap } = this.#parts;
    const entry = this.#entry;
    this.#last = Math.max(this.#last, fire.scheduledForMs);
    while (!this.#stop.aborted) {
      if ((await overlap.running(entry)) === undefined) return this.#now() + (fire.deadlineMs - fire.dueAtMs);
      const due = this.#due(this.#now());
      const newest = due.newest.at(-1);
      if (newest !== undefined) {
        this.#parts.missed.record(entry, { reason: 'overlap', from: this.#firstAfter(this.#last) ?? newest, through: newest, count: due.total });
        this.#parts.log.info({ entry: entry.name, scheduledFor: new Date(newest).toISOString(), missed: { overlap: due.total } }, 'run not sent: one run already waits for the last to finish (overlap buffer-one)');
        if ((await ledger.advance(entry.name, newest)) === 'not-leader') return undefined;
        this.#last = newest;
      }
      await sleep(BUFFER_POLL_MS, undefined, { signal: this.#stop.signal }).catch(() => {});
    }
    return undefined;
  }
}
