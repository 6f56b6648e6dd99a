import type { Logger } from '@nightshift/core';
import type { ScheduleEntry } from '@nightshift/schedule';
import type { RecordedRun } from './entry-source.ts';

/** A run of an entry that has not finished (as far as beat can tell). */
export interface RunningRun {
  readonly id: string;
  readonly sentAt: number;
}

export interface OverlapGateParts {
  /** The newest run of an entry in the task history; `undefined` when there is no history. */
  readonly lastRunOf: ((entry: string) => Promise<RecordedRun | undefined>) | undefined;
  /** The newest run of an entry a person sent (run now, backfill), which the history may not show yet. */
  readonly personSent?: (entry: string) => Promise<RunningRun | undefined>;
  /** How long after sending a run of this entry can still be running (`runHorizonMs` of its task). */
  readonly horizonMs: (entry: ScheduleEntry) => number;
  readonly log: Logger;
  readonly now?: () => number;
}

/**
 * Whether an entry's last run has finished, for the overlap policies `skip` and `buffer-one`. The last run is
 * the newer of what the task history recorded (any origin: scheduled, run now, backfill) and what this replica
 * sent itself (the history may not have it yet). It counts as running until the history says it succeeded, was
 * dead-lettered or revoked, and never longer than its horizon after it was sent, so that a lost event or a
 * history nobody writes cannot block the entry forever.
 */
export class OverlapGate {
  readonly #parts: OverlapGateParts;
  readonly #now: () => number;
  readonly #sent = new Map<string, RunningRun>();
  readonly #historyDown = new Set<string>();

  constructor(parts: OverlapGateParts) {
    this.#parts = parts;
    this.#now = parts.now ?? Date.now;
  }

  /** A run this replica sent (or learned was sent, from Redis). */
  sent(entry: string, run: RunningRun): void {
    const known = this.#sent.get(entry);
    if (known === undefined || run.sentAt >= known.sentAt) this.#sent.set(entry, run);
  }

  /** The entry's unfinished run, or `undefined` when a new one may start. */
  async running(entry: ScheduleEntry): Promise<RunningRun | undefined> {
    const horizon = this.#parts.horizonMs(entry);
    const now = this.#now();
    const within = (run: { sentAt: number }) => now < run.sentAt + horizon;
    const mine = newer(this.#sent.get(entry.name), await this.#parts.personSent?.(entry.name).catch(() => undefined));
    const recorded = await this.#recorded(entry);
    if (recorded !== undefined && (mine === undefined || recorded.id === mine.id || recorded.sentAt >= mine.sentAt)) {
      return !recorded.finished && within(recorded) ? { id: recorded.id, sentAt: recorded.sentAt } : undefined;
    }
    // Sent by this replica and not recorded yet: running until the history says otherwise, or its horizon passed.
    return mine !== undefined && within(mine) ? mine : undefined;
  }

  async #recorded(entry: ScheduleEntry): Promise<RecordedRun | undefined> {
    const { lastRunOf, log } = this.#parts;
    if (lastRunOf === undefined) return undefined;
    try {
      const run = await lastRunOf(entry.name);
      if (this.#historyDown.delete(entry.name)) log.info({ entry: entry.name }, 'the task history answers again: overlap follows the recorded runs');
      return run;
    } catch (error) {
      if (!this.#historyDown.has(entry.name)) {
        this.#historyDown.add(entry.name);
        log.warn({ entry: entry.name, err: { message: (error as Error).message } },
          'cannot read the task history: a run this beat sent counts as running until its horizon passes');
      }
      return undefined;
    }
  }
}

function newer(a: RunningRun | undefined, b: RunningRun | undefined): RunningRun | undefined {
  if (a === undefined) return b;
  return b !== undefined && b.sentAt > a.sentAt ? b : a;
}
