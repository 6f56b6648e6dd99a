import { Backoff, type Logger } from '@nightshift/core';
import { isTransientStoreError } from './errors.ts';
import { migrate, type MigrationResult } from './migrations.ts';
import type { Store } from './store.ts';

export interface MigrateWhenReachableOptions {
  /** Says once per attempt that PostgreSQL is awaited, and which migrations were applied. */
  readonly logger: Logger;
  /** Aborting it gives up the wait at once (a stop signal during start-up). Default: none (waits as long as it takes). */
  readonly signal?: AbortSignal;
  /** The waits between attempts. Default: 500 ms doubling to 10 s, no jitter. */
  readonly backoff?: Backoff;
}

// No jitter, so the wait the log line announces is the wait.
const DEFAULT_MIGRATE_BACKOFF = new Backoff({ base: 500, factor: 2, max: 10_000, jitter: 0 }, 'migrate backoff');

/**
 * Applies the store's migrations at a service's start-up, waiting while PostgreSQL is unreachable (the
 * service may start before its database). Any other failure, or `signal` aborting (also in the middle of
 * a wait), closes the store and rejects: with the migration's error, or the abort's.
 */
export async function migrateWhenReachable(store: Store, options: MigrateWhenReachableOptions): Promise<MigrationResult> {
  const { logger, signal, backoff = DEFAULT_MIGRATE_BACKOFF } = options;
  for (let attempt = 1; ; attempt++) {
    try {
      signal?.throwIfAborted();
      const result = await migrate(store);
      if (result.applied.length > 0) logger.info({ schema: store.schema, applied: result.applied }, `applied ${result.applied.length} store migration(s)`);
      return result;
    } catch (error) {
      if (!isTransientStoreError(error) || signal?.aborted) return closeAndThrow(store, error);
      logger.warn({ err: { message: (error as Error).message }, retryInMs: backoff.delay(attempt) }, 'waiting for PostgreSQL to apply the store migrations');
      try {
        await backoff.sleep(attempt, signal);
      } catch (aborted) {
        return closeAndThrow(store, aborted);
      }
    }
  }
}

async function closeAndThrow(store: Store, error: unknown): Promise<never> {
  await store.close();
  throw error;
}
