import { userInfo } from 'node:os';
import { loadConfig, type NightshiftConfig } from '@nightshift/core';
import { assertMigrated, DeadLetterNotFoundError, DeadLetters, IgnoreRefusedError, RequeueRefusedError, Store, storeOptions, type PriorReview } from '@nightshift/store';
import { UsageError, type Io } from '../command.ts';

/** The dead letters of the configured store (`NIGHTSHIFT_DATABASE_URL`, `NIGHTSHIFT_DATABASE_SCHEMA`), checked to be migrated. */
export async function withDeadLetters<T>(io: Io, work: (deadLetters: DeadLetters, config: NightshiftConfig) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env);
  const store = new Store(storeOptions(config, io.env, 'nightshift cli'));
  try {
    await assertMigrated(store);
    return await work(new DeadLetters(store), config);
  } catch (error) {
    if (error instanceof DeadLetterNotFoundError) {
      throw new UsageError(error.message, '"nightshift dead-letters list" shows the ids there are, of every status, newest first', { code: error.code, cause: error });
    }
    if (error instanceof RequeueRefusedError) throw new UsageError(error.message.replace(/ \(force: true\)/, ''), undefined, { code: error.code, cause: error });
    if (error instanceof IgnoreRefusedError) {
      const { ignored } = error;
      throw new UsageError(ignored.map((d) => `dead letter #${d.id} was already ignored ${review(d)}`).join('; '),
        `nothing was changed; add --force to ignore ${ignored.length === 1 ? 'it' : 'them'} again, replacing who and why`, { code: error.code, cause: error });
    }
    throw error;
  } finally {
    await store.close();
  }
}

/**
 * Who is running the command, as `ignore` and `requeue` record it: the login name from the environment, else
 * the name of the account the process runs as (cron, `docker exec` and systemd set no USER), else `unknown`.
 */
export function reviewer(io: Io): string {
  const named = io.env.USER ?? io.env.LOGNAME ?? io.env.USERNAME;
  if (named !== undefined && named !== '') return named;
  try {
    return userInfo().username;
  } catch {
    // An account without a name (a container's arbitrary uid): nothing better to record.
    return 'unknown';
  }
}

/** `--since 1h` (a duration back from now) or `--since 2026-01-01T00:00:00Z`. */
export function readSince(text: string, now = Date.now()): Date {
  const duration = /^(\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/.exec(text.trim());
  if (duration) {
    const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
    let total = 0;
    for (const [, amount, unit] of text.trim().matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(amount) * (units[unit as string] ?? 0);
    return new Date(now - total);
  }
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new UsageError(`--since ${JSON.stringify(text)} is neither a duration nor a time`, 'e.g. --since 1h, --since 2d or --since 2026-01-01T00:00:00Z');
  return new Date(time);
}

/** `2026-11-24 20:01:02Z`: ISO time, shorter, for tables. */
export function shortTime(iso: string | null): string {
  return iso === null ? '-' : `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z`;
}

/** A review an ignore would replace: `by ana at 2026-11-24 20:01:02Z ("known outage")`. */
export function review(prior: PriorReview): string {
  return `by ${prior.by ?? 'someone'} at ${shortTime(prior.at)}${prior.note ? ` (${JSON.stringify(prior.note)})` : ''}`;
}

/**
 * `text` on one line, at most `max` characters: a longer one is cut at a space where there is one in its
 * second half, and ends in `…` (for tables; `--json` prints values whole).
 */
export function clip(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  const kept = line.slice(0, max - 1);
  const end = line[max - 1] === ' ' ? kept.length : kept.lastIndexOf(' ');
  return `${(end >= max / 2 ? kept.slice(0, end) : kept).trimEnd()}…`;
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ')).join('\n');
}
