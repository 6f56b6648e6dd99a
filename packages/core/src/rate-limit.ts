import { ConfigError } from './errors.ts';

/** A task's rate limit: at most `count` starts per `perMs` on one worker (Celery's `rate_limit`, per worker). */
export interface RateLimit {
  readonly count: number;
  readonly perMs: number;
  /** As written: `'100/m'`. */
  readonly text: string;
}

const PER_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000 };
const RATE = /^(\d+)\s*\/\s*(s|m|h)$/;

/**
 * Reads `'<count>/<s|m|h>'` (`'100/m'`: a hundred starts a minute).
 * @param field names the task and option (`task "mail.send" rateLimit`), so a bad value says where it came from.
 * @throws ConfigError naming the field when the value is not a rate.
 */
export function parseRateLimit(value: unknown, field: string): RateLimit {
  const match = typeof value === 'string' ? RATE.exec(value.trim()) : null;
  const count = match ? Number(match[1]) : 0;
  if (!match || !Number.isSafeInteger(count) || count < 1) {
    throw new ConfigError(`${field}: ${JSON.stringify(value)} is not a rate limit: write "<count>/<s|m|h>" with a count of at least 1, e.g. "100/m"`, { field });
  }
  return Object.freeze({ count, perMs: PER_MS[match[2] as string] as number, text: `${count}/${match[2] as string}` });
}
