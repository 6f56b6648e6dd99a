import { scheduleAlert, type AlertOptions } from '@nightshift/alerts';
import type { AnyApp, Logger } from '@nightshift/core';
import type { Broker } from '@nightshift/broker';
import { judgeEntry, type EntryFacts, type EntryHealth } from '@nightshift/schedule';
import {
  ScheduleFacts, ScheduleHealthRecords, ScheduleRecords,
  type EntryRun, type EntrySuccess, type IncidentRow, type NotSentFires, type ScheduleJudgement, type Store,
} from '@nightshift/store';
import { redact, type RedactOptions } from '@nightshift/telemetry';
import { every } from '../every.ts';
import type { ScheduleGauges } from '../schedule-series.ts';
import { BeatAndQueues } from './beat-and-queues.ts';
import { ALERTER_ACTOR, decideIncident, pauseDue } from './incident.ts';
import { WatchedEntries, type WatchedEntry } from './watched-entries.ts';

export interface ScheduleWatchOptions {
  /** The app: its code entries, tasks (time limits, retries, queues) and zone. Without it, runtime entries only. */
  readonly app: AnyApp | undefined;
  readonly store: Store;
  readonly broker: Broker;
  readonly redisUrl: string;
  readonly prefix: string;
  readonly logger: Logger;
  /** How messages are built (redaction, links). */
  readonly alert: AlertOptions;
  /** The channels a message is written for. */
  readonly channels: readonly string[];
  /** How often every entry is judged. */
  readonly intervalMs: number;
  /** See `IncidentInput.flapWindowMs`. */
  readonly flapWindowMs: number;
  /** The alert window: runs not sent are told at most once per window, and a failing streak's group collects for one. */
  readonly windowMs: number;
  /** `NIGHTSHIFT_RETRY_LADDER`'s steps (a retry waits at least the shortest). */
  readonly retryLadderMs: readonly number[];
  /** Told how every entry was judged after each round. */
  readonly gauges: ScheduleGauges;
  /** Called after a round wrote messages to the outbox. */
  readonly onPage?: () => void;
}

/** Runs read per entry beyond the longest streak an entry counts. */
const RUNS_READ = 5;

/**
 * The dead man's switch of every schedule entry, judged by the alerter (so it works while beat is down or has never
 * started): every `intervalMs` it lists the entries, gathers what the task history, the fires, beat's lease and the
 * queues say of each, judges it (`judgeEntry`), saves the judgement (the health-api shows it), and decides what to
 * tell (`decideIncident`), writing the new incident state and its messages in one transaction, so that a restart
 * neither pages again nor forgets.
 */
export class ScheduleWatch {
  readonly #options: ScheduleWatchOptions;
  readonly #entries: WatchedEntries;
  readonly #records: ScheduleRecords;
  readonly #facts: ScheduleFacts;
  readonly #health: ScheduleHealthRecords;
  readonly #beat: BeatAndQueues;
  /** Entries whose failure streaks the watch pages (their dead letters are held from paging one by one). */
  #holding = new Set<string>();
  /** The success with the latest fire time seen of each entry: it never moves back (history is pruned). */
  #lastSuccess: Map<string, EntrySuccess> | undefined;
  #timer: { stop(): void } | undefined;

  constructor(options: ScheduleWatchOptions) {
    this.#options = options;
    this.#records = new ScheduleRecords(options.store);
    this.#facts = new ScheduleFacts(options.store);
    this.#health = new ScheduleHealthRecords(options.store);
    this.#entries = new WatchedEntries({ app: options.app, records: this.#records, logger: options.logger, retryLadderMs: options.retryLadderMs });
    this.#beat = new BeatAndQueues({ redisUrl: options.redisUrl, prefix: options.prefix, broker: options.broker, logger: options.logger });
  }

  /** Judges once (so the dead-letter intake knows which entries it holds), then every `intervalMs`. */
  async start(): Promise<void> {
    const { logger, app, intervalMs } = this.#options;
    if (app === undefined) logger.warn('no app given (--app): the schedule watch judges runtime entries only, with default task settings; the code\'s entries are not watched');
    try {
      const watched = await this.round();
      logger.info({ entries: watched, everyMs: intervalMs }, `schedule watch: ${watched} entr${watched === 1 ? 'y' : 'ies'} judged every ${intervalMs} ms`);
    } catch (error) {
      logger.warn({ err: { message: (error as Error).message } }, 'the schedule watch\'s first round failed; it keeps trying');
    }
    this.#timer = every(intervalMs, async () => { await this.round(); }, logger, 'judging the schedules');
  }

  async stop(): Promise<void> {
    this.#timer?.stop();
    await this.#beat.close();
  }

  /** Whether the watch pages this entry's failure streaks itself (`alert.afterFailures` or `pauseAfterFailures`). */
  holds(entry: string): boolean {
    return this.#holding.has(entry);
  }

  /** One round: judges every entry, saves the judgements, writes what is to be told. Resolves with how many entries were judged. */
  async round(nowMs = Date.now()): Promise<number> {
    const watched = await this.#entries.list();
    this.#holding = new Set(watched.filter((w) => w.entry.alert.afterFailures !== undefined || w.entry.alert.pauseAfterFailures !== undefined).map((w) => w.entry.name));
    const scope = this.#entries.scope;
    const incidents = await this.#health.watch(
      watched.map((w) => ({ entry: w.entry.name, source: w.entry.source, definitionHash: w.definitionHash })), await this.#facts.lastFireSeq(), scope);
    const facts = await this.#gather(watched, incidents);
    const healths = new Map<string, EntryHealth>();
    for (const w of watched) healths.set(w.entry.name, judgeEntry(w.entry, this.#entries.appZone, w.horizonMs, facts.of(w, undefined, undefined), nowMs));
    // Beat's lease and the queues' consumers only name a cause: asked for the overdue entries alone.
    const overdue = watched.filter((w) => healths.get(w.entry.name)?.status === 'overdue');
    if (overdue.length > 0) {
      const [leader, consumers] = await Promise.all([
        this.#beat.beatLeader(), this.#beat.consumers(new Set(overdue.flatMap((w) => (w.queue === undefined ? [] : [w.queue])))),
      ]);
      for (const w of overdue) {
        const queueConsumers = w.queue === undefined ? undefined : consumers.get(w.queue);
        healths.set(w.entry.name, judgeEntry(w.entry, this.#entries.appZone, w.horizonMs, facts.of(w, leader, queueConsumers), nowMs));
      }
    }
    const redaction = this.#options.alert.redaction;
    await this.#health.saveJudgements(watched.map((w) => judgement(w, healths.get(w.entry.name) as EntryHealth, this.#lastSuccess?.get(w.entry.name), redaction)), scope);
    this.#options.gauges.judged(
      watched.map((w) => ({ name: w.entry.name, source: w.entry.source, health: healths.get(w.entry.name) as EntryHealth })),
      watched.filter((w) => w.paused !== null).length,
    );
    let told = 0;
    for (const w of watched) {
      const row = incidents.get(w.entry.name);
      if (row !== undefined) told += await this.#decide(w, row, healths.get(w.entry.name) as EntryHealth, facts, nowMs);
    }
    if (told > 0) this.#options.onPage?.();
    return watched.length;
  }

  async #gather(watched: readonly WatchedEntry[], incidents: ReadonlyMap<string, IncidentRow>) {
    const names = watched.map((w) => w.entry.name);
    const longestStreak = Math.max(0, ...watched.map((w) => Math.max(w.entry.alert.afterFailures ?? 0, w.entry.alert.pauseAfterFailures ?? 0)));
    if (this.#lastSuccess === undefined) {
      const judged = await this.#health.judgements();
      this.#lastSuccess = new Map([...judged.values()].flatMap((j) => (j.lastSuccessFire !== null && j.lastSuccessAt !== null ? [[j.entry, { fireTime: j.lastSuccessFire, finishedAt: j.lastSuccessAt }]] : [])));
    }
    const [runs, successes] = await Promise.all([
      // A person's resume starts a streak afresh: runs sent before it do not count.
      this.#facts.recentRuns(watched.map((w) => ({ entry: w.entry.name, since: w.resumedAt })), longestStreak + RUNS_READ),
      this.#facts.lastSuccesses(names),
    ]);
    const known = this.#lastSuccess;
    for (const [entry, success] of successes) {
      const before = known.get(entry);
      if (before === undefined || Date.parse(success.fireTime) > Date.parse(before.fireTime)) known.set(entry, success);
    }
    const watchedSince = (w: WatchedEntry) => Math.max(Date.parse(incidents.get(w.entry.name)?.watchedSince ?? new Date().toISOString()), w.resumedAt === null ? 0 : Date.parse(w.resumedAt));
    const [notSent, missed] = await Promise.all([
      this.#facts.notSentSince(watched.map((w) => ({ entry: w.entry.name, since: new Date(Math.max(watchedSince(w), Date.parse(known.get(w.entry.name)?.fireTime ?? '1970-01-01'))).toISOString() }))),
      this.#facts.notSentAfter(watched.flatMap((w) => { const row = incidents.get(w.entry.name); return row === undefined ? [] : [{ entry: w.entry.name, seq: row.missedSeq }]; })),
    ]);
    return {
      runs, missed,
      of: (w: WatchedEntry, beatLeader: boolean | undefined, consumers: number | undefined): EntryFacts => {
        const success = known.get(w.entry.name);
        return {
          ...(success ? { lastSuccess: { scheduledForMs: Date.parse(success.fireTime), finishedAtMs: Date.parse(success.finishedAt) } } : {}),
          watchedSinceMs: watchedSince(w),
          paused: w.paused !== null,
          recentRuns: (runs.get(w.entry.name) ?? []).map(runFact),
          notSent: notSent.get(w.entry.name)?.counts ?? {},
          beatLeader,
          consumers,
          queue: w.queue ?? '(unknown: the alerter runs without the app)',
        };
      },
    };
  }

  /** Decides and writes what to tell about one entry. Resolves with the number of messages written. */
  async #decide(w: WatchedEntry, row: IncidentRow, health: EntryHealth, facts: { runs: Map<string, EntryRun[]>; missed: Map<string, NotSentFires> }, nowMs: number): Promise<number> {
    const options = this.#options;
    const name = w.entry.name;
    const runs = facts.runs.get(name) ?? [];
    const dead = runs.filter((run) => run.state === 'dead-lettered');
    const newestDead = dead[0];
    const lastError = newestDead === undefined ? null : [newestDead.errorClass, newestDead.errorMessage].filter((part) => part !== null).join(': ') || null;
    let paused = w.paused;
    if (pauseDue(w.entry.alert, health)) {
      // Paused first, told after: the pause is told (once, by its time) by whichever round sees it untold.
      const note = `paused by the alerter after ${health.consecutiveFailures} runs in a row were dead-lettered (alert.pauseAfterFailures: ${w.entry.alert.pauseAfterFailures})`;
      const state = await this.#records.setPaused(name, true, note, ALERTER_ACTOR);
      paused = { at: state.pausedAt, by: state.pausedBy, note: state.pausedNote };
      options.logger.warn({ entry: name, failures: health.consecutiveFailures }, `paused schedule ${name}: ${note}`);
    }
    const decision = decideIncident({
      name, task: w.entry.task, queue: w.queue ?? null, alert: w.entry.alert, state: row, health, paused, missed: facts.missed.get(name),
      lastError, nowMs, flapWindowMs: options.flapWindowMs, missedWindowMs: options.windowMs,
    });
    if (!decision.changed && decision.messages.length === 0) return 0;
    const applied = await this.#health.transition(name, row.version, decision.next, {
      alerts: decision.messages.map((message) => ({ ...scheduleAlert(message, options.alert) })),
      channels: options.channels,
      groupKey: `schedule:${name}`,
      ...(decision.openGroup ? {
        openGroup: {
          task: w.entry.task, errorClass: newestDead?.errorClass ?? 'dead-lettered', windowMs: options.windowMs, message: lastError,
          runIds: dead.slice(0, health.consecutiveFailures).map((run) => run.id),
        },
      } : {}),
    });
    if (!applied) return 0; // another alerter decided it first
    for (const message of decision.messages) options.logger.info({ entry: name, event: message.event, status: message.status }, `schedule ${name}: ${message.event}`);
    return decision.messages.length;
  }
}

function runFact(run: EntryRun): EntryFacts['recentRuns'][number] {
  const error = [run.errorClass, run.errorMessage].filter((part) => part !== null).join(': ');
  return { id: run.id, scheduledForMs: Date.parse(run.fireTime), state: run.state, ...(error !== '' ? { error } : {}) };
}

// The cause may quote a task's error: redacted as the messages are, for the health-api shows it.
function judgement(w: WatchedEntry, health: EntryHealth, success: EntrySuccess | undefined, redaction: RedactOptions | undefined): ScheduleJudgement {
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  return {
    entry: w.entry.name, source: w.entry.source, status: health.status, cause: health.cause === undefined ? null : redact(health.cause, redaction) as string, dueBy: iso(health.dueByMs),
    lastSuccessAt: iso(health.lastSuccessMs), lastSuccessFire: success?.fireTime ?? null, consecutiveFailures: health.consecutiveFailures,
  };
}
