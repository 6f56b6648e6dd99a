import { defineTask, PermanentError, RetryableError, SoftTimeLimitExceeded } from '@nightshift/core';
import type { CrmUser } from './demo-api.ts';
import { apiBaseUrl } from './resources.ts';
import { factoryDatabase } from './schema.ts';
import type { FactorySettings } from './settings.ts';
import { inTransaction } from './transaction.ts';

/** A user as the factory stores it. */
export interface LocalUser {
  readonly id: string;
  readonly email: string;
  readonly fullName: string;
  readonly plan: string;
  readonly crmUpdatedAt: string;
}

export type SyncResult =
  | { readonly status: 'synced'; readonly user: LocalUser }
  | { readonly status: 'timeout'; readonly userId: string };

/**
 * `users.sync(userId)`: fetches the user from the CRM and writes it, in one transaction.
 * If the soft time limit passes first, everything is rolled back and the result is `{ status: 'timeout' }`.
 */
export function syncUserTask(settings: FactorySettings) {
  return defineTask({
    name: 'users.sync',
    queue: 'sync',
    // Small on purpose: a worker shows the limit at work on a user whose CRM answer is slow (`slow-…`).
    softTimeLimit: '10s',
    timeLimit: '15s',
    retry: { maxRetries: 4, base: '2s', max: '1m' },
    async run(ctx, userId: string): Promise<SyncResult> {
      if (typeof userId !== 'string' || !/^[\w.-]{1,100}$/.test(userId)) {
        throw new PermanentError(`users.sync: userId ${JSON.stringify(userId)} must be 1–100 letters, digits and . _ -`);
      }
      const { pool, tables } = await factoryDatabase(settings);
      const base = await apiBaseUrl(settings);
      try {
        const user = await inTransaction(pool, { signal: ctx.signal }, async (client) => {
          // Syncs of one user take turns, so an older CRM answer never overwrites a newer one.
          await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${tables.users}:${userId}`]);
          const local = toLocalUser(await fetchCrmUser(base, userId, ctx.signal));
          await client.query(
            `INSERT INTO ${tables.users} (id, email, full_name, plan, crm_updated_at, synced_at)
             VALUES ($1, $2, $3, $4, $5, now())
             ON CONFLICT (id) DO UPDATE
               SET email = excluded.email, full_name = excluded.full_name, plan = excluded.plan,
                   crm_updated_at = excluded.crm_updated_at, synced_at = excluded.synced_at`,
            [local.id, local.email, local.fullName, local.plan, local.crmUpdatedAt],
          );
          return local;
        });
        ctx.log.info({ userId, plan: user.plan }, 'user synced');
        return { status: 'synced', user };
      } catch (error) {
        if (ctx.signal.aborted && isSoftTimeLimit(ctx.signal.reason)) {
          ctx.log.warn({ userId }, 'soft time limit reached; user sync rolled back');
          return { status: 'timeout', userId };
        }
        throw error;
      }
    },
  });
}

async function fetchCrmUser(base: string, userId: string, signal: AbortSignal): Promise<CrmUser> {
  const response = await fetch(`${base}/crm/users/${encodeURIComponent(userId)}`, { signal, headers: { accept: 'application/json' } });
  if (response.status === 404) throw new PermanentError(`users.sync: the CRM has no user ${JSON.stringify(userId)}`);
  if (!response.ok) {
    const retryAfter = Number(response.headers.get('retry-after'));
    throw new RetryableError(`users.sync: the CRM answered HTTP ${response.status} for ${JSON.stringify(userId)}`, {
      ...(retryAfter > 0 ? { retryAfterMs: retryAfter * 1_000 } : {}),
    });
  }
  const body: unknown = await response.json();
  if (!isCrmUser(body)) throw new Error(`users.sync: the CRM's answer for ${JSON.stringify(userId)} is not a user: ${JSON.stringify(body).slice(0, 200)}`);
  return body;
}

/** CRM record → local row: one name field, a normalized email. */
export function toLocalUser(crm: CrmUser): LocalUser {
  return {
    id: crm.id,
    email: crm.email.trim().toLowerCase(),
    fullName: `${crm.firstName.trim()} ${crm.lastName.trim()}`.trim(),
    plan: crm.plan,
    crmUpdatedAt: new Date(crm.updatedAt).toISOString(),
  };
}

function isCrmUser(value: unknown): value is CrmUser {
  if (typeof value !== 'object' || value === null) return false;
  const user = value as Record<string, unknown>;
  return ['id', 'firstName', 'lastName', 'email', 'plan', 'updatedAt'].every((field) => typeof user[field] === 'string')
    && !Number.isNaN(Date.parse(user.updatedAt as string));
}

// By code as well as class: the worker's copy of @nightshift/core may not be this module's.
function isSoftTimeLimit(reason: unknown): boolean {
  return reason instanceof SoftTimeLimitExceeded || (reason instanceof Error && (reason as { code?: unknown }).code === 'E_SOFT_TIME_LIMIT');
}
