/** A task's latest report of how far it has come. */
export interface TaskProgress {
  /** From 0 to 1. */
  readonly fraction: number;
  readonly message?: string;
}

/** How often an attempt's progress leaves its sandbox at most: the dashboard shows it live, a loop may call it per row. */
export const PROGRESS_INTERVAL_MS = 250;

const MAX_MESSAGE_CHARS = 200;

/**
 * `ctx.progress` of one attempt: checks each report and passes on the latest, at most once per
 * `PROGRESS_INTERVAL_MS` (the first at once, the last one of a burst when the interval ends). `stop` drops
 * what is still waiting: the attempt's outcome says the rest.
 */
export function progressReporter(send: (progress: TaskProgress) => void, intervalMs = PROGRESS_INTERVAL_MS): { report(fraction: number, message?: string): void; stop(): void } {
  let latest: TaskProgress | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const flush = () => {
    timer = undefined;
    if (latest === undefined || stopped) return;
    const progress = latest;
    latest = undefined;
    send(progress);
    timer = setTimeout(flush, intervalMs);
    timer.unref();
  };
  return {
    report(fraction, message) {
      if (typeof fraction !== 'number' || !Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
        throw new RangeError(`ctx.progress: the fraction must be a number from 0 to 1 (0.4 is 40 %), not ${String(fraction)}`);
      }
      if (message !== undefined && typeof message !== 'string') throw new TypeError(`ctx.progress: the message must be a string, not ${typeof message}`);
      if (stopped) return;
      latest = message === undefined ? { fraction } : { fraction, message: message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS - 1)}…` : message };
      if (timer === undefined) flush();
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
