import { defineTask, PermanentError, type TaskContext } from '@nightshift/core';
import type { PoolClient } from 'pg';
import { factoryDatabase, type FactoryTables } from './schema.ts';
import type { FactorySettings } from './settings.ts';
import { inTransaction } from './transaction.ts';

const DAY_MS = 86_400_000;

/** One UTC day: `[start, end)`. */
export interface ReportWindow {
  /** `YYYY-MM-DD`. */
  readonly day: string;
  readonly start: Date;
  readonly end: Date;
}

export interface DailyReport {
  readonly type: ReportType;
  /** `YYYY-MM-DD`, the UTC day the report covers. */
  readonly day: string;
  readonly eventCount: number;
  readonly summary: Readonly<Record<string, unknown>>;
  readonly generatedAt: string;
}

interface Aggregate {
  readonly eventCount: number;
  readonly summary: Record<string, unknown>;
}

type Aggregator = (client: PoolClient, tables: FactoryTables, window: ReportWindow) => Promise<Aggregate>;

const AGGREGATORS = {
  /** Events and summed quantity per event kind. */
  async usage(client, tables, window) {
    const { rows } = await client.query<{ kind: string; events: string; quantity: string }>(
      `SELECT kind, count(*) AS events, sum(quantity) AS quantity
         FROM ${tables.usageEvents} WHERE occurred_at >= $1 AND occurred_at < $2
        GROUP BY kind ORDER BY kind`,
      [window.start, window.end],
    );
    const byKind = Object.fromEntries(rows.map((row) => [row.kind, { events: Number(row.events), quantity: Number(row.quantity) }]));
    return { eventCount: rows.reduce((sum, row) => sum + Number(row.events), 0), summary: { byKind } };
  },
  /** Distinct active users and the five busiest. */
  async users(client, tables, window) {
    const { rows } = await client.query<{ user_id: string; events: string }>(
      `SELECT user_id, count(*) AS events
         FROM ${tables.usageEvents} WHERE occurred_at >= $1 AND occurred_at < $2
        GROUP BY user_id ORDER BY count(*) DESC, user_id`,
      [window.start, window.end],
    );
    const topUsers = rows.slice(0, 5).map((row) => ({ userId: row.user_id, events: Number(row.events) }));
    return { eventCount: rows.reduce((sum, row) => sum + Number(row.events), 0), summary: { activeUsers: rows.length, topUsers } };
  },
} satisfies Record<string, Aggregator>;

export type ReportType = keyof typeof AGGREGATORS;
export const REPORT_TYPES = Object.freeze(Object.keys(AGGREGATORS) as ReportType[]);

/**
 * The UTC day before the run was due: a beat run reports the day before its scheduled fire time,
 * so a run that starts late, or a missed run replayed after downtime, still reports its own day.
 * Any other run reports the day before now.
 */
export function previousUtcDay(ctx: Pick<TaskContext, 'origin'>, now: Date = new Date()): ReportWindow {
  const due = ctx.origin.type === 'beat' ? new Date(ctx.origin.scheduledFor) : now;
  const end = new Date(Date.UTC(due.getUTCFullYear(), due.getUTCMonth(), due.getUTCDate()));
  const start = new Date(end.getTime() - DAY_MS);
  return { day: start.toISOString().slice(0, 10), start, end };
}

/** `reports.generateDaily(type)`: aggregates the previous UTC day's usage events into one stored report row. */
export function generateDailyReportTask(settings: FactorySettings) {
  return defineTask({
    name: 'reports.generateDaily',
    queue: 'reports',
    softTimeLimit: '10m',
    timeLimit: '12m',
    retry: { maxRetries: 5, base: '30s', max: '15m' },
    async run(ctx, type: string): Promise<DailyReport> {
      if (!isReportType(type)) {
        throw new PermanentError(`reports.generateDaily: unknown report type ${JSON.stringify(type)}; expected one of ${REPORT_TYPES.join(', ')}`);
      }
      const window = previousUtcDay(ctx);
      const { pool, tables } = await factoryDatabase(settings);
      // One snapshot for the aggregate and the write: a report never mixes two states of the events.
      const report = await inTransaction(pool, { signal: ctx.signal, isolation: 'repeatable read' }, async (client) => {
        const aggregate = await AGGREGATORS[type](client, tables, window);
        // Upsert: a retry, a replay or a second run of the same day replaces the row, never adds one.
        const { rows } = await client.query<{ generated_at: Date }>(
          `INSERT INTO ${tables.dailyReports} (report_type, day, event_count, summary, generated_at)
           VALUES ($1, $2, $3, $4, now())
           ON CONFLICT (report_type, day) DO UPDATE
             SET event_count = excluded.event_count, summary = excluded.summary, generated_at = excluded.generated_at
           RETURNING generated_at`,
          [type, window.day, aggregate.eventCount, JSON.stringify(aggregate.summary)],
        );
        return { type, day: window.day, ...aggregate, generatedAt: (rows[0]?.generated_at ?? new Date()).toISOString() };
      });
      ctx.log.info({ type, day: window.day, eventCount: report.eventCount }, 'daily report stored');
      return report;
    },
  });
}

function isReportType(type: unknown): type is ReportType {
  return typeof type === 'string' && Object.hasOwn(AGGREGATORS, type);
}
