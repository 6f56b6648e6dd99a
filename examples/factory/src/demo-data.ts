import { randomUUID } from 'node:crypto';
import { redisClient } from './resources.ts';
import { factoryDatabase } from './schema.ts';
import type { FactorySettings } from './settings.ts';
import { storeRefreshToken } from './tokens.ts';

const DAY_MS = 86_400_000;

/** Gives every task something to do: expired and live tokens, yesterday's usage events, old completed tasks. */
export async function seedDemoData(settings: FactorySettings, now: Date = new Date()): Promise<void> {
  const redis = redisClient();
  for (let i = 0; i < 5; i++) {
    const expiresAt = new Date(now.getTime() + (i < 3 ? -1 : 1) * (i + 1) * 3_600_000);
    await storeRefreshToken(redis, settings.redisPrefix, { id: randomUUID(), userId: `user-${i}`, expiresAt });
  }

  const { pool, tables } = await factoryDatabase(settings);
  const yesterday = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) - DAY_MS;
  const kinds = ['api_call', 'api_call', 'export', 'login'];
  for (let i = 0; i < 24; i++) {
    await pool.query(
      `INSERT INTO ${tables.usageEvents} (occurred_at, user_id, kind, quantity) VALUES ($1, $2, $3, $4)`,
      [new Date(yesterday + i * 3_600_000), `user-${i % 4}`, kinds[i % kinds.length], 1 + (i % 3)],
    );
  }
  const tasks: [title: string, status: string, completedDaysAgo: number | null][] = [
    ['ship the Q1 report', 'completed', 45],
    ['rotate API keys', 'completed', 40],
    ['fix the login page', 'completed', 2],
    ['plan the offsite', 'open', null],
  ];
  for (const [title, status, completedDaysAgo] of tasks) {
    const completedAt = completedDaysAgo === null ? null : new Date(now.getTime() - completedDaysAgo * DAY_MS);
    await pool.query(
      `INSERT INTO ${tables.tasks} (title, status, created_at, completed_at) VALUES ($1, $2, $3, $4)`,
      [title, status, new Date(now.getTime() - 60 * DAY_MS), completedAt],
    );
  }
}
