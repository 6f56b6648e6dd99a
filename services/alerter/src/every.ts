import { Backoff, type Logger } from '@nightshift/core';

/** Runs `work` every `ms`, never two at once; after a failure it backs off (from `ms`, at least 500 ms, doubling to 30 s) and logs once per streak. */
export function every(ms: number, work: () => Promise<void>, logger: Logger, what: string): { stop(): void } {
  const backoff = new Backoff({ base: Math.max(ms, 500), factor: 2, max: Math.max(ms, 500, 30_000), jitter: 0 }, `${what} backoff`);
  let running = false;
  let failures = 0;
  let nextAt = 0;
  const timer = setInterval(() => {
    if (running || Date.now() < nextAt) return;
    running = true;
    work().then(
      () => { failures = 0; },
      (error: unknown) => {
        if (failures === 0) logger.warn({ err: { message: (error as Error).message } }, `${what} failed; retrying with backoff`);
        failures += 1;
        nextAt = Date.now() + backoff.delay(failures);
      },
    ).finally(() => { running = false; });
  }, ms);
  return { stop: () => clearInterval(timer) };
}
