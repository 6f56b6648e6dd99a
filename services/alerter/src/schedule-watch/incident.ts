import type { ScheduleAlertEvent, ScheduleAlertSource } from '@nightshift/alerts';
import { formatDuration } from '@nightshift/core';
import type { EntryAlert, EntryHealth } from '@nightshift/schedule';
import type { IncidentState, NotSentFires } from '@nightshift/store';

/** Who the alerter is when it pauses an entry (`alert.pauseAfterFailures`). */
export const ALERTER_ACTOR = 'nightshift alerter';

/** Everything one decision about one entry needs: what was told before, how the entry is doing now. */
export interface IncidentInput {
  readonly name: string;
  readonly task: string;
  readonly queue: string | null;
  readonly alert: EntryAlert;
  /** What was told before (the stored incident). */
  readonly state: IncidentState;
  readonly health: EntryHealth;
  /** Its pause, when paused (the alerter's own included, made just before this decision). */
  readonly paused: { readonly at: string | null; readonly by: string | null; readonly note: string | null } | null;
  /** Fires not sent that were recorded since the last told (`state.missedSeq`). */
  readonly missed: NotSentFires | undefined;
  /** The error of the newest dead-lettered run. */
  readonly lastError: string | null;
  readonly nowMs: number;
  /** An incident this soon after a recovery is flapping; flapping ends after this long without a change. */
  readonly flapWindowMs: number;
  /** Runs not sent are told at most once per this (the alert window). */
  readonly missedWindowMs: number;
}

/** What to tell about one entry: its next incident state and the messages to send. */
export interface IncidentDecision {
  readonly next: IncidentState;
  readonly messages: readonly ScheduleAlertSource[];
  /** Open the entry's alert group, so its later dead letters are counted in this incident (a failing streak). */
  readonly openGroup: boolean;
  /** Whether `next` differs from the state given. */
  readonly changed: boolean;
}

/**
 * Decides what to tell about one entry. The rules, in full:
 *
 * - **One incident, one page.** An entry going overdue or failing opens an incident: one page (overdue, with the
 *   likely cause; or failing, after `alert.afterFailures` runs in a row dead-lettered). While it is open nothing else
 *   pages about it (failing that turns overdue is the same incident). It ends with one recovery message when the
 *   entry has succeeded since it opened and is no longer overdue or failing. A paused entry's incident waits.
 * - **Flapping.** An entry that goes bad again within `flapWindowMs` of a recovery is flapping: one message says so,
 *   and no change pages from then on. Once it has stayed the same (healthy, or overdue/failing) for a whole
 *   `flapWindowMs`, one message says which; if bad, that is the incident's page. So whatever it does, a flapping
 *   entry sends at most one message per `flapWindowMs`.
 * - **Pause after failures.** At `alert.pauseAfterFailures` runs in a row dead-lettered the caller pauses the entry
 *   (by `nightshift alerter`, see `pauseDue`), and the page says so, once per pause, whatever the incident's phase
 *   (an action was taken). A person's resume starts the count again.
 * - **Missed runs.** Fires not sent are told at most once per `missedWindowMs`, with the count and the reasons;
 *   those of a pause (reason `paused`) once per pause, and not at all when the alerter paused it (its page said so).
 */
export function decideIncident(input: IncidentInput): IncidentDecision {
  const phase = decidePhase(input);
  // A pause the alerter made and has not told yet (made this round, or told by a round that failed to write).
  const pauseNews = input.paused !== null && input.paused.by === ALERTER_ACTOR && input.paused.at !== input.state.pauseToldFor;
  const messages: ScheduleAlertSource[] = phase.message === undefined ? [] : [message(input, phase.message.event, phase.message.detail, { pausedByAlerter: pauseNews })];
  if (pauseNews && messages.length === 0) messages.push(message(input, 'paused', pausedDetail(input), { pausedByAlerter: true, status: 'paused' }));
  const told = pauseNews ? { ...phase.next, pauseToldFor: input.paused?.at ?? null } : phase.next;
  const missed = decideMissed(input, told);
  if (missed.message !== undefined) messages.push(missed.message);
  const next = missed.next;
  return { next, messages, openGroup: phase.openGroup, changed: (Object.keys(next) as (keyof IncidentState)[]).some((key) => next[key] !== input.state[key]) };
}

/** Whether to pause the entry now: `alert.pauseAfterFailures` runs in a row dead-lettered, and it runs. */
export function pauseDue(alert: EntryAlert, health: EntryHealth): boolean {
  return alert.pauseAfterFailures !== undefined && health.consecutiveFailures >= alert.pauseAfterFailures && health.status !== 'paused';
}

interface PhaseDecision {
  readonly next: IncidentState;
  readonly message?: { readonly event: ScheduleAlertEvent; readonly detail: string };
  readonly openGroup: boolean;
}

function decidePhase(input: IncidentInput): PhaseDecision {
  const { state, health, nowMs, flapWindowMs } = input;
  const now = new Date(nowMs).toISOString();
  const bad = health.status === 'overdue' || health.status === 'failing';
  const lastSuccess = health.lastSuccessMs === undefined ? null : new Date(health.lastSuccessMs).toISOString();
  const stay: PhaseDecision = { next: state, openGroup: false };
  const noFlap = { flapSince: null, flapChanges: 0, flapLastChangeAt: null, flapBad: null } as const;
  const open = (detail: string, event: ScheduleAlertEvent = health.status as ScheduleAlertEvent): PhaseDecision => ({
    next: { ...state, ...noFlap, phase: 'incident', openedStatus: health.status, openedAt: now, openedLastSuccessAt: lastSuccess },
    message: { event, detail },
    openGroup: health.status === 'failing',
  });
  if (health.status === 'ended') {
    return state.phase === 'quiet' ? stay : { next: { ...state, ...noFlap, phase: 'quiet', openedStatus: null, openedAt: null, openedLastSuccessAt: null }, openGroup: false };
  }
  if (health.status === 'paused') return stay;
  switch (state.phase) {
    case 'quiet': {
      if (!bad) return stay;
      const sinceRecovery = state.recoveredAt === null ? Number.POSITIVE_INFINITY : nowMs - Date.parse(state.recoveredAt);
      if (sinceRecovery >= flapWindowMs) return open(health.status === 'overdue' ? overdueDetail(input) : failingDetail(input));
      return {
        next: { ...state, phase: 'flapping', flapSince: now, flapChanges: 1, flapLastChangeAt: now, flapBad: true },
        message: {
          event: 'flapping',
          detail: `${input.name} is ${health.status} again ${formatDuration(Math.max(1_000, Math.round(sinceRecovery / 1_000) * 1_000))} after it recovered: it is flapping. `
            + `No change pages from now on; one message follows once it has stayed healthy, or ${health.status}, for ${formatDuration(flapWindowMs)}.`,
        },
        openGroup: false,
      };
    }
    case 'incident': {
      const succeeded = health.lastSuccessMs !== undefined && (state.openedLastSuccessAt === null || health.lastSuccessMs > Date.parse(state.openedLastSuccessAt));
      if (bad || !succeeded) return stay;
      return {
        next: { ...state, phase: 'quiet', openedStatus: null, openedAt: null, openedLastSuccessAt: null, recoveredAt: now },
        message: { event: 'recovered', detail: `${input.name} succeeded again (at ${lastSuccess}); it was ${state.openedStatus ?? 'in trouble'} since ${state.openedAt ?? 'earlier'}.` },
        openGroup: false,
      };
    }
    case 'flapping': {
      if (bad !== state.flapBad) return { next: { ...state, flapChanges: state.flapChanges + 1, flapLastChangeAt: now, flapBad: bad }, openGroup: false };
      const steadyMs = state.flapLastChangeAt === null ? Number.POSITIVE_INFINITY : nowMs - Date.parse(state.flapLastChangeAt);
      if (steadyMs < flapWindowMs) return stay;
      const flapped = `${state.flapChanges} change${state.flapChanges === 1 ? '' : 's'} since it started flapping at ${state.flapSince ?? 'earlier'}`;
      if (bad) return open(`${input.name} has stayed ${health.status} for ${formatDuration(flapWindowMs)} after flapping (${flapped}). One message follows when it succeeds again.`, 'steady');
      return {
        next: { ...state, ...noFlap, phase: 'quiet', recoveredAt: now },
        message: { event: 'steady', detail: `${input.name} has stayed healthy for ${formatDuration(flapWindowMs)} after flapping (${flapped}).` },
        openGroup: false,
      };
    }
  }
}

function decideMissed(input: IncidentInput, state: IncidentState): { next: IncidentState; message?: ScheduleAlertSource } {
  const { missed, paused, nowMs } = input;
  if (missed === undefined) return { next: state };
  const counts = missed.counts;
  const pausedCount = counts.paused ?? 0;
  const others = Object.entries(counts).reduce((sum, [reason, n]) => sum + (reason === 'paused' ? 0 : n ?? 0), 0);
  const windowOver = state.missedPagedAt === null || nowMs - Date.parse(state.missedPagedAt) >= input.missedWindowMs;
  // Runs a pause did not send are said once per pause, and never for a pause the alerter made (its page said so).
  const pauseNews = pausedCount > 0 && paused !== null && paused.at !== state.pauseToldFor && paused.by !== ALERTER_ACTOR;
  const tellOthers = others > 0 && windowOver;
  const now = new Date(nowMs).toISOString();
  if (others > 0 && !windowOver) {
    // Held until the window is over: counted then, with whatever came meanwhile.
    if (!pauseNews) return { next: state };
    return { next: { ...state, pauseToldFor: paused.at }, message: missedMessage(input, true) };
  }
  const next: IncidentState = {
    ...state,
    missedSeq: missed.seq,
    ...(tellOthers ? { missedPagedAt: now } : {}),
    ...(pauseNews ? { pauseToldFor: paused.at } : {}),
  };
  return tellOthers || pauseNews ? { next, message: missedMessage(input, pauseNews) } : { next };
}

function missedMessage(input: IncidentInput, pauseNews: boolean): ScheduleAlertSource {
  const missed = input.missed as NotSentFires;
  const reasons = Object.fromEntries(Object.entries(missed.counts).filter(([, n]) => (n ?? 0) > 0)) as Record<string, number>;
  const count = Object.values(reasons).reduce((a, b) => a + b, 0);
  const pause = input.paused;
  const sentences = [
    `${count} fire time${count === 1 ? '' : 's'} of ${input.name} from ${missed.from} through ${missed.through} ${count === 1 ? 'was' : 'were'} not sent.`,
    ...(pauseNews && pause ? [`It was paused by ${pause.by ?? 'someone'} at ${pause.at ?? 'an unknown time'}${pause.note ? ` (${pause.note})` : ''}: its runs are not sent until it is resumed, and this is said once per pause.`] : []),
    ...(reasons.overlap ? ['overlap: its last run had not finished (its overlap policy).'] : []),
    ...(reasons.misfire ? ['misfire: beat was down or late and its misfire policy dropped them.'] : []),
    ...(reasons.expired || reasons.unsent || reasons.state_lost ? ['expired, unsent, state_lost: beat could not send them (the broker refused or was down, the lease was lost, or beat\'s state in Redis was lost).'] : []),
    `Runs not sent are told at most once per ${formatDuration(input.missedWindowMs)}.`,
  ];
  return { ...message(input, 'missed', sentences.join(' '), {}), missed: { count, reasons, from: missed.from, through: missed.through } };
}

function overdueDetail(input: IncidentInput): string {
  const { health } = input;
  const since = health.lastSuccessMs === undefined ? 'it has not succeeded since it is watched' : `no success since ${new Date(health.lastSuccessMs).toISOString()}`;
  const due = health.dueByMs === undefined ? '' : `; one was due by ${new Date(health.dueByMs).toISOString()}`;
  return `${input.name} is overdue: ${since}${due}. Likely cause: ${health.cause ?? 'unknown'}. One message follows when it succeeds again.`;
}

function failingDetail(input: IncidentInput): string {
  const { health, alert } = input;
  return `The last ${health.consecutiveFailures} runs of ${input.name} were dead-lettered (alert.afterFailures: ${alert.afterFailures ?? alert.pauseAfterFailures}). `
    + 'Its further dead letters are counted into this incident and summarized once per alert window; one message follows when it succeeds again.';
}

function pausedDetail(input: IncidentInput): string {
  return `After ${input.health.consecutiveFailures} runs in a row were dead-lettered (alert.pauseAfterFailures: ${input.alert.pauseAfterFailures}), `
    + `the alerter paused ${input.name}: its runs are not sent until someone resumes it.`;
}

function message(input: IncidentInput, event: ScheduleAlertEvent, detail: string, extra: { pausedByAlerter?: boolean; status?: string }): ScheduleAlertSource {
  const { health } = input;
  const pausedNote = extra.pausedByAlerter && event !== 'paused' ? ` ${pausedDetail(input)}` : '';
  return {
    event, entry: input.name, task: input.task, queue: input.queue, status: extra.status ?? health.status, cause: health.cause ?? null,
    lastSuccessAt: health.lastSuccessMs === undefined ? null : new Date(health.lastSuccessMs).toISOString(),
    dueBy: health.dueByMs === undefined ? null : new Date(health.dueByMs).toISOString(),
    consecutiveFailures: health.consecutiveFailures, lastError: input.lastError, missed: null, pausedByAlerter: extra.pausedByAlerter ?? false,
    detail: `${detail}${pausedNote}`, at: new Date(input.nowMs).toISOString(),
  };
}
