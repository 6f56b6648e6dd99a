// Reading beat's `beat.dispatched` events as runs of an interval entry: which fire times were sent, how often,
// and which of the entry's boundaries between two times were not. Interval math is written out here (a run
// falls on anchor + k × period) rather than taken from @nightshift/schedule, so the check does not share a
// bug with what it checks.
import type { LifecycleEvent } from '@nightshift/broker';

export interface DispatchedRun {
  readonly entry: string;
  /** The message id, `beat:<entry>:<fire time>`. */
  readonly id: string;
  readonly scheduledForMs: number;
  /** When beat published it (the event's time). */
  readonly dispatchedAtMs: number;
  /** Publish start minus fire time, as beat measured it. */
  readonly lagMs: number;
  readonly replica: string;
}

/** The runs of `entry` among `events`, oldest fire time first (duplicates kept). */
export function runsOf(events: readonly LifecycleEvent[], entry: string): DispatchedRun[] {
  return events
    .filter((e) => e.type === 'beat.dispatched' && e.entry === entry)
    .map((e) => ({
      entry, id: String(e.id), scheduledForMs: Date.parse(String(e.scheduledFor)), dispatchedAtMs: Date.parse(e.at),
      lagMs: Number(e.lagMs), replica: String(e.replica),
    }))
    .sort((a, b) => a.scheduledForMs - b.scheduledForMs);
}

/** An interval entry's rhythm: a run on `anchorMs + k × everyMs`. */
export interface Rhythm {
  readonly everyMs: number;
  readonly anchorMs: number;
}

export function onBoundary(ms: number, rhythm: Rhythm): boolean {
  return (((ms - rhythm.anchorMs) % rhythm.everyMs) + rhythm.everyMs) % rhythm.everyMs === 0;
}

/** Every boundary from `fromMs` to `toMs`, both included when they are boundaries. */
export function boundaries(rhythm: Rhythm, fromMs: number, toMs: number): number[] {
  const first = rhythm.anchorMs + Math.ceil((fromMs - rhythm.anchorMs) / rhythm.everyMs) * rhythm.everyMs;
  const times: number[] = [];
  for (let at = first; at <= toMs; at += rhythm.everyMs) times.push(at);
  return times;
}

/** Fire times sent more than once. */
export function sentTwice(runs: readonly DispatchedRun[]): number[] {
  const seen = new Map<number, number>();
  for (const run of runs) seen.set(run.scheduledForMs, (seen.get(run.scheduledForMs) ?? 0) + 1);
  return [...seen].filter(([, count]) => count > 1).map(([at]) => at);
}

/** Boundaries between the first and the last run sent that were not sent. */
export function notSent(runs: readonly DispatchedRun[], rhythm: Rhythm, fromMs = runs[0]?.scheduledForMs, toMs = runs.at(-1)?.scheduledForMs): number[] {
  if (fromMs === undefined || toMs === undefined) return [];
  const sent = new Set(runs.map((r) => r.scheduledForMs));
  return boundaries(rhythm, fromMs, toMs).filter((at) => !sent.has(at));
}

/** The median and the largest of `values`. */
export function medianAndMax(values: readonly number[]): { median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)] ?? 0, max: sorted.at(-1) ?? 0 };
}
