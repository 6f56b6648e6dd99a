import { ConfigError } from './errors.ts';

/** A length of time: milliseconds as a number, or a string such as `'90s'`, `'5m'`, `'1h30m'`, `'250ms'`. */
export type Duration = number | string;

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Reads a duration and returns milliseconds.
 * @param field names the option being read, so a bad value says where it came from.
 * @throws ConfigError naming the field and the value when the value is not a duration.
 */
export function parseDuration(value: Duration, field: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw invalid(field, value);
  }
  if (typeof value !== 'string') throw invalid(field, value);
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  if (text === '') throw invalid(field, value);
  let total = 0;
  let seen = '';
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const start = PART.lastIndex;
    const match = PART.exec(text);
    if (!match || match.index !== start) throw invalid(field, value);
    const unit = match[2] as string;
    if (seen.includes(`|${unit}|`)) throw invalid(field, value);
    seen += `|${unit}|`;
    total += Number(match[1]) * (UNIT_MS[unit] as number);
  }
  return Math.round(total);
}

/** Formats milliseconds the way people write them: 5400000 → `'1h30m'`. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${ms}ms`;
  let rest = Math.round(ms);
  let out = '';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNIT_MS[unit] as number;
    const count = Math.floor(rest / size);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * size;
  }
  return rest > 0 ? `${out}${rest}ms` : out;
}

function invalid(field: string, value: unknown): ConfigError {
  return new ConfigError(
    `${field}: ${JSON.stringify(value)} is not a duration (use e.g. '90s', '5m', '1h30m' or a number of milliseconds)`,
    { field },
  );
}
