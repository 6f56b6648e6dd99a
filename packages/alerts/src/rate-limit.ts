import { ConfigError, parseDuration } from '@nightshift/core';

/** At most `max` alerts per `perMs` on one channel; more wait in the outbox until the window allows them. */
export interface RateLimit {
  readonly max: number;
  readonly perMs: number;
}

/** Per channel unless configured: 20 a minute (Slack itself takes about one a second per webhook). */
export const DEFAULT_RATE_LIMIT: RateLimit = Object.freeze({ max: 20, perMs: 60_000 });

/**
 * Reads `<max>/<duration>`, e.g. `20/1m` or `5/10s`.
 * @throws ConfigError naming `field` and the value.
 */
export function parseRateLimit(text: string, field: string): RateLimit {
  const match = /^\s*(\d+)\s*\/\s*(\S+)\s*$/.exec(text);
  const max = Number(match?.[1]);
  if (!match || !Number.isInteger(max) || max < 1) {
    throw new ConfigError(`${field}: ${JSON.stringify(text)} is not a rate limit (use <count>/<duration>, e.g. 20/1m)`, { field });
  }
  const perMs = parseDuration(match[2] as string, field);
  if (perMs < 1_000) throw new ConfigError(`${field}: ${JSON.stringify(text)}: the period must be at least 1s`, { field });
  return Object.freeze({ max, perMs });
}
