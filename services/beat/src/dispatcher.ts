import { setTimeout as sleep } from 'node:timers/promises';
import {
  Backoff, BadParameterError, ConfigError, MalformedMessageError, parseDuration, TopologyMismatchError, UnroutableError,
  type AnyApp, type Logger, type TaskEnvelope,
} from '@nightshift/core';
import { buildEnvelope, REPUBLISHED_HEADER, sendEnvelope, type Client, type EventPublisher } from '@nightshift/broker';
import { runId } from '@nightshift/beat-state';
import type { ScheduleEntry } from '@nightshift/schedule';
import {
  ATTR_BEAT_ENTRY, ATTR_BEAT_OUTCOME, ATTR_BEAT_SCHEDULED_FOR, ATTR_TASK, context, SpanKind, SpanStatusCode, trace,
} from '@nightshift/telemetry';
import type { Lease } from './lease.ts';
import type { BeatMetrics, MissReason } from './metrics.ts';
import type { MissedFires } from './missed-fires.ts';
import type { OverlapGate } from './overlap.ts';
import type { ClaimResult, RunLedger } from './run-ledger.ts';
import { JOURNAL_BCC } from './run-journal.ts';

/** What became of one run. `handled`: claimed or counted before (by this or another replica). */
export type DispatchOutcome = 'sent' | 'missed' | 'handled' | 'not-leader';

export interface DispatcherParts {
  /** Whose tasks the runs are: a run's message is built from the app's settings for its task. */
  readonly app: AnyApp;
  readonly client: Client<AnyApp>;
  /**
   * Carries the `beat.dispatched` events, grouped (one message per type every few ms, unconfirmed): at a boundary of
   * 2,000 runs, a confirmed message per event doubled what the broker had to confirm while the runs waited.
   */
  readonly events: EventPublisher;
  readonly ledger: RunLedger;
  readonly lease: Lease;
  readonly metrics: BeatMetrics;
  readonly missed: MissedFires;
  /** Hears of every run sent, for the overlap policies. */
  readonly overlap: OverlapGate;
  readonly log: Logger;
  readonly replica: string;
}

/** One fire of an entry, to send. */
export interface Fire {
  readonly entry: ScheduleEntry;
  /** The fire time (ms): the run's claim and id. */
  readonly scheduledForMs: number;
  /** When it is meant to be sent: the fire time plus the entry's jitter offset. Lateness counts from here. */
  readonly dueAtMs: number;
  /** The last moment it may be sent (its misfire grace). */
  readonly deadlineMs: number;
}

/**
 * A run's message built a little before its due time (`Dispatcher.prepare`), so that at a boundary where thousands
 * are due the time goes to sending them: building a message (the task's settings, its id, its origin) is most of
 * what a send costs beat. Only the moment it is sent (`sentAt`, and `expires` from it) is written when it goes.
 */
export interface PreparedRun {
  readonly scheduledForMs: number;
  readonly envelope: TaskEnvelope;
  /**
   * The run's claim, made ahead too (`RunLedger.claim(…, true)`), so that at the boundary nothing but the publish
   * stands between a run and the broker; `undefined` (not claimed ahead, or Redis failed) claims it when it is sent.
   */
  readonly claimed?: Promise<ClaimResult | undefined>;
}

/**
 * Called once the run is claimed, before it is published: resolves with the deadline to publish by (it may have
 * waited, for `buffer-one`), or `undefined` to drop the run (the entry stopped meanwhile).
 */
export type Hold = () => Promise<number | undefined>;

// Publishing a run again while the broker is down: 250 ms doubling to 2 s, never past the run's grace.
// No jitter: one leader sends, so there is no herd to spread.
const PUBLISH_BACKOFF = new Backoff({ base: 250, factor: 2, max: 2_000, jitter: 0 }, 'beat publish backoff');
// Errors a retry cannot fix: the message or the topology is wrong, not the broker's availability.
const PERMANENT_ERRORS = [ConfigError, BadParameterError, UnroutableError, TopologyMismatchError, MalformedMessageError];
const tracer = trace.getTracer('@nightshift/beat');
/**
 * Publishes awaiting their confirm at once, at most: the publisher's own bound (2,000). A publish's attempt timeout
 * (`publishAttemptTimeout`) counts from the moment it is written, so none waits behind the others with its clock
 * running (under load, those timed out and were sent again: a second copy of a run the broker may well have stored).
 * At a boundary of 2,000 runs all are written at once now: with a window of 512 the runs past it waited for whole
 * rounds of confirms (the 2,000th was written 0.9–1.4 s after its fire time at 100,000 entries, against 0.3 s), and
 * the broker confirmed the last of them 0.4–0.7 s after it was written. (Earlier, with the change fence read at the fire
 * time and full spans, a window of 2,048 had confirms near 2 s on a loaded machine: the attempt timeout's default is
 * 5 s since, not 2 s.)
 */
const SEND_WINDOW = 2_000;
/**
 * What follows a run's send and may wait waits while runs woken with it are still to be written to the broker, at
 * most this long: its reports (its metric, its `beat.dispatched` event, its `dispatched` line), and its Redis writes
 * (the watermark moved to a run taken from a claim made ahead, the run's record). At a boundary of 2,000 runs, the
 * reports done as each confirm came took half of beat's time there, in front of the runs not yet written; the Redis
 * writes, a tenth. Neither is needed sooner: a leader killed in between leaves claims the next one sorts by the journal.
 */
const AFTER_WRITES_WITHIN_MS = 1_000;

/**
 * Sends one run: claims it in Redis (fenced by the lease; or takes the claim made ahead, see `PreparedRun`), then publishes it with the run's id as message
 * id and waits for the broker's confirm, trying again while the broker is down until the run's grace ends
 * (then it is counted and logged as missed). A claimed run is never claimed again, by any replica; beat
 * stops trying the moment its lease is no longer valid.
 */
export class Dispatcher {
  readonly #parts: DispatcherParts;
  #sending = 0;
  readonly #waitingToSend: (() => void)[] = [];
  /** Runs between their wake-up and the moment they are written to the broker (or given up). */
  #unwritten = 0;
  /** What follows runs sent, not yet done (see `AFTER_WRITES_WITHIN_MS`), in the order it came. */
  #afterWrites: (() => void)[] = [];
  #afterWritesTimer: NodeJS.Timeout | undefined;

  constructor(parts: DispatcherParts) {
    this.#parts = parts;
  }

  /**
   * Builds the message of the entry's run `scheduledForMs` ahead of its due time; `undefined` if it cannot be built
   * (sending it will say why).
   */
  prepare(entry: ScheduleEntry, scheduledForMs: number): PreparedRun | undefined {
    try {
      return { scheduledForMs, envelope: this.#build(entry, scheduledForMs, Date.now()) };
    } catch {
      return undefined;
    }
  }

  /**
   * `signal` aborts when this replica stops leading: a run not yet sent then is not sent. `prepared`: its message
   * built ahead, used if it is this fire's.
   */
  dispatch(fire: Fire, signal: AbortSignal, hold?: Hold, prepared?: PreparedRun): Promise<DispatchOutcome> {
    const { entry } = fire;
    const scheduledFor = new Date(fire.scheduledForMs).toISOString();
    const attributes = { [ATTR_BEAT_ENTRY]: entry.name, [ATTR_TASK]: entry.task, [ATTR_BEAT_SCHEDULED_FOR]: scheduledFor };
    this.#unwritten += 1;
    let unwritten = true;
    const written = () => {
      if (!unwritten) return;
      unwritten = false;
      this.#unwritten -= 1;
      // After the write itself (the microtask it waits for is queued before this one).
      if (this.#unwritten === 0 && this.#afterWrites.length > 0) queueMicrotask(() => this.#doAfterWrites());
    };
    // Each run starts its own trace: the send span of the broker client is its child.
    return tracer.startActiveSpan(`beat ${entry.name}`, { root: true, kind: SpanKind.INTERNAL, attributes }, async (span) => {
      try {
        const outcome = await this.#dispatch(fire, signal, hold, prepared?.scheduledForMs === fire.scheduledForMs ? prepared : undefined, written);
        span.setAttribute(ATTR_BEAT_OUTCOME, outcome);
        if (outcome === 'missed') span.setStatus({ code: SpanStatusCode.ERROR, message: 'run missed' });
        return outcome;
      } finally {
        span.end();
        written();
      }
    });
  }

  async #dispatch(fire: Fire, signal: AbortSignal, hold: Hold | undefined, prepared: PreparedRun | undefined, written: () => void): Promise<DispatchOutcome> {
    const { lease, ledger, log } = this.#parts;
    const { entry, scheduledForMs } = fire;
    let claim = prepared?.claimed === undefined ? undefined : await prepared.claimed;
    // Claimed ahead, and the lease lost (or beat stopping) since: the claim is left to the next leader, which finds it
    // stranded and sends it at its time. Nothing is recorded on it: a claim said missed would never be sent.
    if (claim !== undefined && (!lease.holds() || signal.aborted)) return 'not-leader';
    // Taken at its time: the watermark moves to it, as a claim made now would have moved it (a claim made ahead leaves
    // it, so that a leader stopped or killed before the fire time leaves the watermark at the last run); once the runs
    // woken with it are written (a leader killed before then leaves a claim the next one sorts by the journal).
    if (claim === 'claimed') this.#afterWriting(() => ledger.taken(entry.name, scheduledForMs));
    let warned = false;
    while (claim === undefined) {
      if (!lease.holds() || signal.aborted) return 'not-leader';
      try {
        claim = await ledger.claim(entry.name, scheduledForMs);
      } catch (error) {
        if (!warned) log.warn({ ...runFields(fire), err: { message: (error as Error).message } }, 'could not claim the run in Redis; retrying while the lease lasts');
        warned = true;
        await sleep(100, undefined, { signal }).catch(() => {});
      }
    }
    if (claim !== 'claimed') return claim;
    let deadlineMs = fire.deadlineMs;
    if (hold !== undefined) {
      const held = await hold();
      if (held === undefined) return this.#miss(entry, scheduledForMs, 'stopped', 'the entry was changed, paused or removed while its run waited');
      deadlineMs = held;
    }
    return this.#publish(fire, deadlineMs, signal, false, prepared, written);
  }

  /**
   * Sends a run another leader claimed and died before sending (`RunLedger.stranded`): it is not claimed again.
   * Past its grace it is counted missed (`expired`). `maybeSent`: that leader may have written it to the broker
   * before it died, its confirm unseen (the journal could not tell): this may be a second copy, marked.
   */
  resend(fire: Fire, signal: AbortSignal, maybeSent = true): Promise<DispatchOutcome> {
    if (Date.now() >= fire.deadlineMs) {
      return Promise.resolve(this.#miss(fire.entry, fire.scheduledForMs, 'expired', 'the leader that claimed it stopped before sending it, and its grace has ended'));
    }
    return this.#publish(fire, fire.deadlineMs, signal, maybeSent);
  }

  /** Counts as sent a run another leader claimed and published, then died before recording it (the journal says so). */
  routed(fire: Fire, sentAtMs: number): void {
    this.#sent(fire, runId(fire.entry.name, fire.scheduledForMs), sentAtMs, 1);
  }

  /**
   * `maybeSent`: the run may have reached the broker already. Then, as every attempt after a failed one (which
   * may have been stored, its confirm lost or late), it is sent marked with `REPUBLISHED_HEADER`: a duplicate beat
   * sends is always one a consumer can tell.
   */
  async #publish(fire: Fire, deadlineMs: number, signal: AbortSignal, maybeSent = false, prepared?: PreparedRun, written?: () => void): Promise<DispatchOutcome> {
    const { client, events, lease, log } = this.#parts;
    const { entry, scheduledForMs } = fire;
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) return this.#miss(entry, scheduledForMs, 'stopped', 'beat stopped before the run could be sent');
      if (!lease.holds()) return this.#miss(entry, scheduledForMs, 'lost-lease', 'the lease ran out before the run could be sent; no other beat can send it either');
      await this.#windowOpen();
      // What held while it waited for its turn may not hold any more.
      if (signal.aborted || !lease.holds()) {
        this.#windowDone();
        continue;
      }
      const startedAt = Date.now();
      try {
        // As the client's `send` does it, from the message built ahead if there is one. Journalled with the run, in
        // the same routing step: a next leader can tell it was sent (see RunJournal).
        const envelope = prepared !== undefined && attempt === 1 ? stamped(prepared.envelope, entry, startedAt) : this.#build(entry, scheduledForMs, startedAt);
        const headers: Record<string, unknown> = { BCC: JOURNAL_BCC };
        if (maybeSent || attempt > 1) headers[REPUBLISHED_HEADER] = true;
        const sent = sendEnvelope(client.broker, envelope, events, headers);
        written?.();
        await sent;
        this.#windowDone();
        this.#sent(fire, envelope.id, startedAt, attempt);
        return 'sent';
      } catch (error) {
        this.#windowDone();
        const reason = (error as Error).message;
        if (PERMANENT_ERRORS.some((cls) => error instanceof cls)) {
          return this.#miss(entry, scheduledForMs, 'unsendable', `the run cannot be sent: ${reason}`, 'error');
        }
        if (Date.now() >= deadlineMs) {
          return this.#miss(entry, scheduledForMs, 'expired', `the broker did not take the run before its grace ended (${attempt} attempts; last: ${reason})`);
        }
        if (attempt === 1) log.warn({ ...runFields(fire), err: { message: reason }, graceEnds: isFinite(deadlineMs) ? new Date(deadlineMs).toISOString() : 'never' }, 'could not publish the run; retrying until its grace ends');
        await sleep(Math.max(1, Math.min(PUBLISH_BACKOFF.delay(attempt), deadlineMs - Date.now())), undefined, { signal }).catch(() => {});
      }
    }
  }

  async #windowOpen(): Promise<void> {
    if (this.#sending >= SEND_WINDOW) await new Promise<void>((resolve) => this.#waitingToSend.push(resolve));
    this.#sending += 1;
  }

  #windowDone(): void {
    this.#sending -= 1;
    this.#waitingToSend.shift()?.();
  }

  /** The message of a run, built as the client's `send` builds it, by name with the entry's validated args. */
  #build(entry: ScheduleEntry, scheduledForMs: number, nowMs: number): TaskEnvelope {
    const origin = { type: 'beat', beat: entry.name, scheduledFor: new Date(scheduledForMs).toISOString() } as const;
    return buildEnvelope(this.#parts.app, entry.task, entry.args, {
      id: runId(entry.name, scheduledForMs),
      origin,
      kwargs: { ...entry.kwargs },
      ...(entry.queue !== undefined ? { queue: entry.queue } : {}),
      ...(entry.expires !== undefined ? { expires: entry.expires } : {}),
    }, 'beat', nowMs);
  }

  #sent(fire: Fire, id: string, startedAt: number, attempts: number): void {
    const { events, ledger, metrics, overlap, log, replica } = this.#parts;
    const { entry, scheduledForMs } = fire;
    // At once: the overlap policy of the entry's next run depends on it.
    overlap.sent(entry.name, { id, sentAt: startedAt });
    // Said in the run's span, as if at once: its line carries the run's trace.
    const active = context.active();
    this.#afterWriting(() => {
      void ledger.record(entry.name, scheduledForMs, { state: 'sent', id, sentAt: new Date(startedAt).toISOString() });
      context.with(active, () => {
        const scheduledFor = new Date(scheduledForMs).toISOString();
        const lagMs = startedAt - fire.dueAtMs;
        const jitter = fire.dueAtMs > scheduledForMs ? { jitterMs: fire.dueAtMs - scheduledForMs } : {};
        metrics.dispatched(entry.name, entry.task, lagMs);
        events.publish('beat.dispatched', { entry: entry.name, task: entry.task, id, scheduledFor, lagMs, ...jitter, attempts, replica, origin: 'schedule' });
        log.info({ entry: entry.name, task: entry.task, id, scheduledFor, lagMs, ...jitter, ...(attempts > 1 ? { attempts } : {}) }, 'dispatched');
      });
    });
  }

  /** Does `work` now, or once every run woken so far is written to the broker (see `AFTER_WRITES_WITHIN_MS`). */
  #afterWriting(work: () => void): void {
    if (this.#unwritten === 0 && this.#afterWrites.length === 0) {
      work();
      return;
    }
    this.#afterWrites.push(work);
    this.#afterWritesTimer ??= setTimeout(() => this.#doAfterWrites(), AFTER_WRITES_WITHIN_MS);
  }

  // Does what waited for the writes, in the order it came.
  #doAfterWrites(): void {
    clearTimeout(this.#afterWritesTimer);
    this.#afterWritesTimer = undefined;
    const waiting = this.#afterWrites;
    this.#afterWrites = [];
    for (const work of waiting) work();
  }

  #miss(entry: ScheduleEntry, scheduledForMs: number, reason: MissReason, why: string, level: 'warn' | 'error' = 'warn'): DispatchOutcome {
    const scheduledFor = new Date(scheduledForMs).toISOString();
    this.#parts.missed.record(entry, { reason, from: scheduledForMs, through: scheduledForMs, count: 1 });
    void this.#parts.ledger.record(entry.name, scheduledForMs, { state: 'missed', reason });
    this.#parts.log[level]({ entry: entry.name, task: entry.task, scheduledFor, reason }, `run missed: ${why}`);
    return 'missed';
  }
}

/** What a line about one run says of it (made only when a line is written: a boundary sends thousands). */
function runFields(fire: Fire): { entry: string; task: string; scheduledFor: string } {
  return { entry: fire.entry.name, task: fire.entry.task, scheduledFor: new Date(fire.scheduledForMs).toISOString() };
}

/** A message built ahead, as sent now: `sentAt` (and `expires`, counted from it) say when it really went. */
function stamped(envelope: TaskEnvelope, entry: ScheduleEntry, nowMs: number): TaskEnvelope {
  return {
    ...envelope,
    sentAt: new Date(nowMs).toISOString(),
    ...(entry.expires !== undefined ? { expires: new Date(nowMs + parseDuration(entry.expires, 'send expires')).toISOString() } : {}),
  };
}
