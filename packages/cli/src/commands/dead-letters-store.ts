import { loadConfig, type NightshiftConfig } from '@nightshift/core';
import { assertMigrated, DeadLetterNotFoundError, DeadLetters, IgnoreRefusedError, RequeueRefusedError, Store, storeOptions, type PriorReview } from '@nightshift/store';
import { UsageError, type Io } from '../command.ts';
import { shortTime } from '../text-table.ts';

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

/** A review an ignore would replace: `by ana at 2026-11-24 20:01:02Z ("known outage")`. */
export function review(prior: PriorReview): string {
  return `by ${prior.by ?? 'someone'} at ${shortTime(prior.at)}${prior.note ? ` (${JSON.stringify(prior.note)})` : ''}`;
}

/** The filter options of a bulk action, as the person gave them. */
export interface FilterWords {
  readonly task?: string;
  readonly 'error-class'?: string;
  readonly reason?: string;
  readonly since?: string;
  readonly until?: string;
}

/** `of task mail.send with error TimeoutError since 2h`: a bulk action's filter in words (empty without one). */
export function describeFilter(values: FilterWords): string {
  return [
    values.task !== undefined ? `of task ${values.task}` : '', values['error-class'] !== undefined ? `with error ${values['error-class']}` : '',
    values.reason !== undefined ? `dead for ${values.reason}` : '', values.since !== undefined ? `since ${values.since}` : '', values.until !== undefined ? `until ${values.until}` : '',
  ].filter(Boolean).join(' ');
}
