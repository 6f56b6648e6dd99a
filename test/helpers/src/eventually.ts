import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls `read` until it gives a value other than `undefined` or `false`, and returns it; throws naming `what`
 * when `timeoutMs` passes first, so a stuck test says what it was waiting for. A check that returns a
 * boolean waits for `true`.
 */
export async function eventually<T>(
  what: string,
  read: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(everyMs);
  }
}
