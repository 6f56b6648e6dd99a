import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { redactUrl, type AnyApp, type Logger } from '@nightshift/core';
import { EventPublisher, type Client } from '@nightshift/broker';
import { beatKeys, runId } from '@nightshift/beat-state';
import { entryRunHorizonMs, entryZone, graceEnd, jitterOffsetMs, nextFireTime, type ScheduleEntry } from '@nightshift/schedule';
import { ChangeFence } from './change-fence.ts';
import { Dispatcher, type Fire } from './dispatcher.ts';
import { EntryEngine } from './entry-engine.ts';
import { EntryLoop } from './entry-loop.ts';
import { EntrySet } from './entry-set.ts';
import { codeEntries, type EntrySource, type LiveEntry } from './entry-source.ts';
import { FireClock } from './fire-clock.ts';
import { Lease } from './lease.ts';
import type { BeatMetrics } from './metrics.ts';
import { MissedFires } from './missed-fires.ts';
import type { BeatSettings } from './options.ts';
import { OverlapGate } from './overlap.ts';
import { RunJournal, type StrandedClaim } from './run-journal.ts';
import { RunLedger } from './run-ledger.ts';

/** How long before an entry is due it works out what it can ahead (`EntryLoop.prepare`). */
const PREPARE_AHEAD_MS = 1_000;
/** How long a stranded run whose entry changed since it was loaded waits for it to be read again. */
const STRANDED_RECHECK_MS = 500;
/** How long a replica taking the lease waits for a fresh read of the entries before it dispatches what it has. */
const LOAD_BEFORE_LEADING_MS = 2_000;
/**
 * A follower reads the leader's watermarks (all of them, one HGETALL) on a renewal only once this many times its last
 * read's duration has passed since: at 100,000 entries a read cost the follower some 0.6 s of CPU, and Redis a pause
 * in which the leader's calls waited; done on every renewal it took 18 % of a core. A dozen entries are still read on
 * every renewal.
 */
const OBSERVE_SPACING = 50;

/** What a beat is built from; `service.ts` wires them. */
export interface BeatParts {
  readonly app: AnyApp;
  /** The app's entries: what is dispatched until (and unless) `source` can be read. */
  readonly entries: readonly ScheduleEntry[];
  /** Where the entries and their states come from (the code's only, or with PostgreSQL's runtime entries). */
  readonly source: EntrySource;
  /** Connected with `enableOfflineQueue: false`, so that a command fails at once while Redis is unreachable. */
  readonly redis: Redis;
  /** Publishes with `publishTimeoutMs` = `settings.publishAttemptTimeoutMs`. */
  readonly client: Client<AnyApp>;
  readonly settings: BeatSettings;
  readonly metrics: BeatMetrics;
  readonly log: Logger;
  /** `NIGHTSHIFT_PREFIX`: Redis keys live under it. */
  readonly prefix: string;
  /** For log lines only. */
  readonly redisUrl?: string;
}

/**
 * One beat replica. Every `renewEvery` it renews the lease (or, as a follower, tries to take it). While it
 * holds the lease it dispatches every entry from one timer (`EntryEngine`); it stops the moment the lease is lost, or when its
 * `validUntil` passes without a renewal (Redis unreachable) — before Redis could hand the lease to another.
 */
export class Beat {
  readonly lease: Lease;
  readonly #parts: BeatParts;
  readonly #ledger: RunLedger;
  readonly #journal: RunJournal;
  readonly #dispatcher: Dispatcher;
  readonly #events: EventPublisher;
  readonly #overlap: OverlapGate;
  readonly #missed: MissedFires;
  readonly #entrySet: EntrySet;
  readonly #fence: ChangeFence;
  readonly #releasedChannel: string;
  readonly #horizons = new WeakMap<ScheduleEntry, number>();
  readonly #leaseRedis: Redis;
  readonly #leaseReady: Promise<void>;
  #listener: Redis | undefined;
  #leading: AbortController | undefined;
  #engine: EntryEngine | undefined;
  #starting: Promise<void> = Promise.resolve();
  #tickTimer: NodeJS.Timeout | undefined;
  #expiryTimer: NodeJS.Timeout | undefined;
  #redisDownSince: number | undefined;
  /** When a follower next reads the watermarks (see `OBSERVE_SPACING`). */
  #observeAfter = 0;
  #stopped = false;
  #ticking: Promise<void> = Promise.resolve();
  /** The entries by name, for runs stranded by the leader before (see `#currentEntry`). */
  #entriesIndexed: { readonly of: readonly LiveEntry[]; readonly byName: ReadonlyMap<string, LiveEntry> } | undefined;

  constructor(parts: BeatParts) {
    this.#parts = parts;
    const keys = beatKeys(parts.prefix);
    // Its own connection: a renewal never waits behind the claims of a busy boundary or a start's watermarks.
    this.#leaseRedis = parts.redis.duplicate({ connectionName: 'nightshift-beat-lease' });
    this.#leaseRedis.on('error', (error: Error) => parts.log.debug({ err: { message: error.message } }, 'Redis lease connection error'));
    this.lease = new Lease(this.#leaseRedis, keys, parts.settings.leaseTtlMs, parts.settings.replica);
    // Without an offline queue a command sent before the connection is up fails: the first renewal waits for it
    // (a little; a Redis that does not answer is then reported as before).
    const leaseRedis = this.#leaseRedis;
    this.#leaseReady = new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        leaseRedis.off('ready', done).off('end', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(1_000, parts.settings.renewEveryMs));
      leaseRedis.once('ready', done).once('end', done);
    });
    this.#releasedChannel = keys.leaseReleased;
    this.#ledger = new RunLedger(parts.redis, keys, this.lease, parts.settings.claimTtlMs, parts.settings.replica);
    this.#journal = new RunJournal(parts.client.broker, parts.log);
    this.#missed = new MissedFires(parts.metrics, parts.client.broker, parts.settings.replica);
    const lastRunOf = parts.source.lastRunOf?.bind(parts.source);
    const personSent = async (entry: string) => {
      const raw = await parts.redis.hget(keys.personSent, entry);
      const run = raw === null ? undefined : JSON.parse(raw) as { id?: unknown; sentAtMs?: unknown };
      return typeof run?.id === 'string' && typeof run.sentAtMs === 'number' ? { id: run.id, sentAt: run.sentAtMs } : undefined;
    };
    this.#overlap = new OverlapGate({ lastRunOf, personSent, horizonMs: (entry) => this.#horizonMs(entry), log: parts.log });
    this.#events = new EventPublisher(parts.client.broker);
    // Opened now, so that the first runs' events are not dropped; if the broker is down, the first flush opens it.
    void this.#events.ready();
    this.#dispatcher = new Dispatcher({
      app: parts.app, client: parts.client, events: this.#events, ledger: this.#ledger, lease: this.lease, metrics: parts.metrics, missed: this.#missed, overlap: this.#overlap, log: parts.log, replica: parts.settings.replica,
    });
    this.#entrySet = new EntrySet({ source: parts.source, initial: codeEntries(parts.entries), reconcileEveryMs: parts.settings.reconcileEveryMs, log: parts.log });
    this.#fence = new ChangeFence({ source: parts.source, stale: (name) => this.#entrySet.stale(name), log: parts.log });
  }

  /** The entries this replica dispatches when it leads, with their states, as last read. */
  get entries(): readonly LiveEntry[] {
    return this.#entrySet.entries;
  }

  /** Whether this replica dispatches now. */
  get leading(): boolean {
    return this.#leading !== undefined;
  }

  /** Starts competing for the lease. */
  start(): void {
    this.#parts.metrics.leader(false);
    this.#entrySet.start({
      all: (entries) => this.#engine?.apply(entries),
      some: (changed, removed) => this.#engine?.update(changed, removed),
    });
    this.#listenForRelease();
    this.#tick();
  }

  /** Stops dispatching, waits for the run in flight, and releases the lease so another replica takes over at once. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#tickTimer);
    this.#listener?.disconnect();
    await this.#ticking;
    const wasLeading = this.leading;
    await this.#stepDown(undefined);
    // The last runs' events, taken by the broker before its connection closes.
    await this.#events.close();
    await this.#entrySet.stop();
    if (wasLeading) await this.lease.release().catch((error: Error) => this.#parts.log.warn({ err: { message: error.message } }, 'could not release the lease; it expires by itself'));
    await this.#leaseRedis.quit().catch(() => this.#leaseRedis.disconnect());
  }

  // One refresh at a time: a tick asked for while one runs follows it at once.
  #tick(): void {
    if (this.#stopped) return;
    clearTimeout(this.#tickTimer);
    this.#ticking = this.#ticking.catch(() => {}).then(() => this.#refresh()).finally(() => {
      clearTimeout(this.#tickTimer);
      if (!this.#stopped) this.#tickTimer = setTimeout(() => this.#tick(), this.#parts.settings.renewEveryMs);
    });
  }

  // A leader that stops cleanly announces it; a follower then tries at once rather than at its next renewal,
  // so a redeploy leaves no gap. Without the announcement (Redis down, a crash) the renewal period still applies.
  #listenForRelease(): void {
    const listener = this.#parts.redis.duplicate({ enableOfflineQueue: true, connectionName: 'nightshift-beat-listener' });
    listener.on('error', (error: Error) => this.#parts.log.debug({ err: { message: error.message } }, 'Redis listener connection error'));
    listener.on('message', () => {
      if (!this.leading) this.#tick();
    });
    listener.subscribe(this.#releasedChannel).catch((error: Error) => this.#parts.log.debug({ err: { message: error.message } }, 'could not listen for lease releases; takeovers wait for the renewal period'));
    this.#listener = listener;
  }

  async #refresh(): Promise<void> {
    const { log, metrics } = this.#parts;
    let held: boolean;
    await this.#leaseReady;
    try {
      held = await this.lease.refresh();
    } catch (error) {
      this.#redisUnreachable(error as Error);
      return;
    }
    if (this.#redisDownSince !== undefined) {
      log.info({ downForMs: Date.now() - this.#redisDownSince }, 'Redis answers again; competing for the lease');
      this.#redisDownSince = undefined;
    }
    metrics.redisUp(true);
    if (this.#stopped) return;
    if (held) {
      this.#watchExpiry();
      if (!this.leading) this.#lead();
    } else {
      if (this.leading) await this.#stepDown('the lease is no longer ours (another replica holds it, or Redis lost it)');
      // What the leader wrote, remembered here in case Redis comes back without it (see LedgerMemory).
      const startedAt = Date.now();
      if (startedAt < this.#observeAfter) return;
      await this.#ledger.observe().catch((error: Error) => log.debug({ err: { message: error.message } }, 'could not read the run watermarks'));
      this.#observeAfter = Date.now() + OBSERVE_SPACING * (Date.now() - startedAt);
    }
  }

  #redisUnreachable(error: Error): void {
    this.#parts.metrics.redisUp(false);
    if (this.#redisDownSince === undefined) {
      this.#redisDownSince = Date.now();
      this.#parts.log.error(
        { err: { message: error.message }, redis: this.#parts.redisUrl === undefined ? undefined : redactUrl(this.#parts.redisUrl), leading: this.leading },
        this.leading
          ? 'Redis is unreachable: cannot renew the lease; dispatching stops before it could expire, and nothing is sent until Redis answers'
          : 'Redis is unreachable: this beat cannot prove it is the only one, so it sends nothing until Redis answers',
      );
    }
  }

  // A leader whose renewals fail stops at validUntil, without waiting for Redis to say anything.
  #watchExpiry(): void {
    clearTimeout(this.#expiryTimer);
    this.#expiryTimer = setTimeout(() => {
      if (this.leading && !this.lease.holds()) void this.#stepDown('the lease could not be renewed in time');
    }, Math.max(0, this.lease.validUntil - Date.now()));
  }

  #lead(): void {
    const { log, metrics } = this.#parts;
    const controller = new AbortController();
    this.#leading = controller;
    metrics.leader(true);
    const clock = new FireClock(Date.now, PREPARE_AHEAD_MS);
    controller.signal.addEventListener('abort', () => clock.close(), { once: true });
    // One set of parts for every entry's loop (not a copy each: 100,000 of them).
    const loopParts = this.#loopParts();
    const engine = new EntryEngine({
      loop: (live, stop) => new EntryLoop(live, loopParts, stop, controller.signal),
      clock,
      notLeader: () => {
        if (this.#leading !== controller) return;
        // Redis refused a fenced write while the lease was still valid here: someone else holds it.
        const refused = this.lease.holds();
        void this.#stepDown(refused ? 'Redis says the lease is no longer ours' : 'the lease could not be renewed in time', refused);
      },
      ended: (entry) => metrics.nextFire(entry, undefined),
      firstDue: ({ entry }, nowMs) => nextFireTime(entry.schedule, Math.max(nowMs, (entry.startAt ?? Number.NEGATIVE_INFINITY) - 1), entryZone(entry, this.#parts.app.timezone)),
      log,
    }, controller.signal);
    this.#engine = undefined;
    this.#starting = this.#startDispatching(engine, controller.signal);
  }

  // A replica taking over reads the entries first; if that takes long (PostgreSQL unreachable, slow), it
  // dispatches what it last read, and applies the read when it comes.
  async #startDispatching(engine: EntryEngine, leading: AbortSignal): Promise<void> {
    const { app, log, metrics, settings } = this.#parts;
    // Declared before this leader's first claims if it can be (it is quick; the read below takes longer): only runs
    // claimed once it exists are looked up in it by a next leader.
    const journal = this.#ledger.journaled ? Promise.resolve() : this.#journal.declare().then((declared) => {
      if (declared) this.#ledger.journaled = true;
    });
    const read = this.#entrySet.refresh();
    await Promise.race([read, sleep(LOAD_BEFORE_LEADING_MS, undefined, { signal: leading }).catch(() => {})]);
    if (leading.aborted) return;
    void Promise.all([read, journal]).then(() => this.#sendStranded(leading)).catch((error: Error) => log.warn({ err: { message: error.message } }, 'could not read the runs the previous leader left unsent; they wait for the next leader'));
    const entries = this.#entrySet.entries;
    const runtime = entries.filter((live) => live.entry.source === 'runtime').length;
    log.info({ replica: settings.replica, entries: entries.length, runtimeEntries: runtime, timezone: app.timezone }, `leader: dispatching ${entries.length} schedule entries`);
    metrics.runtimeEntries(runtime);
    this.#engine = engine;
    engine.apply(entries);
  }

  // Runs the previous leader claimed and died before recording (sent or counted). The beat journal tells which of
  // them it had published: those are recorded sent, the others are sent now under their own ids. Where the journal
  // cannot tell, each is sent again marked as possibly a second copy (the run's id lets workers tell); without this,
  // every run claimed in the moment of a crash was lost unnoticed.
  async #sendStranded(leading: AbortSignal): Promise<void> {
    const { app, log } = this.#parts;
    const stranded = await this.#ledger.stranded();
    if (stranded.length === 0 || leading.aborted) return;
    log.warn({ runs: stranded.length }, `${stranded.length} runs were claimed by the previous leader and neither recorded sent nor counted (it stopped in between): sending those it had not sent, under their own ids`);
    const sorted = await this.#journal.sort(stranded);
    if (leading.aborted) return;
    const fire = (claim: StrandedClaim) => {
      const entry = this.#currentEntry(claim.entry)?.entry;
      if (entry === undefined) return undefined;
      const { scheduledForMs } = claim;
      const zone = entryZone(entry, app.timezone);
      const dueAtMs = scheduledForMs + jitterOffsetMs(entry.name, scheduledForMs, entry.jitterMs);
      const deadlineMs = graceEnd(entry.misfire, scheduledForMs, nextFireTime(entry.schedule, scheduledForMs, zone)) - scheduledForMs + dueAtMs;
      return { entry, scheduledForMs, dueAtMs, deadlineMs };
    };
    // Reached its queue: whatever became of the entry since, the run is there.
    for (const claim of sorted.routed) {
      const run = fire(claim);
      if (run === undefined) await this.#ledger.record(claim.entry, claim.scheduledForMs, { state: 'sent', id: runId(claim.entry, claim.scheduledForMs), sentAt: new Date(claim.sentAtMs).toISOString() });
      else this.#dispatcher.routed(run, claim.sentAtMs);
    }
    const send = (maybeSent: boolean) => async (claim: StrandedClaim) => {
      const run = fire(claim);
      if (run === undefined) await this.#ledger.record(claim.entry, claim.scheduledForMs, { state: 'missed', reason: 'removed' });
      else if (claim.ahead === true) await this.#sendClaimedAhead(claim, run, leading, maybeSent);
      else await this.#dispatcher.resend(run, leading, maybeSent);
    };
    await Promise.all([...sorted.unrouted.map(send(false)), ...sorted.unknown.map(send(true))]);
  }

  /**
   * A stranded run its leader claimed ahead of its fire time (see `EntryLoop.prepare`): that leader had not yet read
   * its entry again when it was due, so this one does, as that one would have. It is sent at its due time, not
   * before, and only if the entry, read then, still sends it: not if it was removed, paused, or changed since the
   * claim to a definition without that fire time.
   */
  async #sendClaimedAhead(claim: StrandedClaim, run: Fire, leading: AbortSignal, maybeSent: boolean): Promise<void> {
    const { app, log } = this.#parts;
    const { scheduledForMs } = claim;
    await sleep(Math.max(0, run.dueAtMs - Date.now()), undefined, { signal: leading }).catch(() => {});
    for (;;) {
      if (leading.aborted) return;
      const live = this.#currentEntry(claim.entry);
      if (live === undefined || live.paused) {
        if (live !== undefined) this.#missed.record(live.entry, { reason: 'paused', from: scheduledForMs, through: scheduledForMs, count: 1 });
        await this.#ledger.record(claim.entry, scheduledForMs, { state: 'missed', reason: live === undefined ? 'removed' : 'paused' });
        return;
      }
      if (await this.#fence.allows(live)) {
        const { entry } = live;
        const changedSince = live.changedAt !== undefined && live.changedAt > (claim.claimedAtMs ?? Number.NEGATIVE_INFINITY);
        if (changedSince && nextFireTime(entry.schedule, scheduledForMs - 1, entryZone(entry, app.timezone)) !== scheduledForMs) {
          log.info({ entry: entry.name, scheduledFor: new Date(scheduledForMs).toISOString() }, 'run not sent: its entry changed after the previous leader claimed it, and the new definition has no run then');
          await this.#ledger.record(claim.entry, scheduledForMs, { state: 'missed', reason: 'changed' });
          return;
        }
        await this.#dispatcher.resend({ ...run, entry }, leading, maybeSent);
        return;
      }
      // Changed since it was loaded: read again (the fence asked for it), then decided on what was read.
      if (Date.now() >= run.deadlineMs) {
        await this.#dispatcher.resend(run, leading, maybeSent);
        return;
      }
      await sleep(STRANDED_RECHECK_MS, undefined, { signal: leading }).catch(() => {});
    }
  }

  /** The entry of this name as last read; the list is indexed once per read, not once per run. */
  #currentEntry(name: string): LiveEntry | undefined {
    const entries = this.#entrySet.entries;
    if (this.#entriesIndexed?.of !== entries) this.#entriesIndexed = { of: entries, byName: new Map(entries.map((live) => [live.entry.name, live])) };
    return this.#entriesIndexed.byName.get(name);
  }

  #loopParts() {
    const { app, metrics, log } = this.#parts;
    return { zone: app.timezone, ledger: this.#ledger, dispatcher: this.#dispatcher, overlap: this.#overlap, missed: this.#missed, metrics, log, fence: this.#fence };
  }

  // How long a run of the entry can last: the overlap policy never waits longer for it to finish.
  #horizonMs(entry: ScheduleEntry): number {
    const known = this.#horizons.get(entry);
    if (known !== undefined) return known;
    const { app, client } = this.#parts;
    const horizon = entryRunHorizonMs(app, entry, client.broker.spec.ladderMs[0] ?? 0);
    this.#horizons.set(entry, horizon);
    return horizon;
  }

  async #stepDown(why: string | undefined, dropLease = false): Promise<void> {
    const controller = this.#leading;
    if (controller === undefined) return;
    this.#leading = undefined;
    clearTimeout(this.#expiryTimer);
    controller.abort();
    if (dropLease) this.lease.drop();
    this.#parts.metrics.leader(false);
    if (why !== undefined) this.#parts.log.warn({ replica: this.#parts.settings.replica }, `no longer leader: ${why}; sending nothing`);
    await this.#starting;
    const engine = this.#engine;
    this.#engine = undefined;
    await engine?.stopped();
  }
}
