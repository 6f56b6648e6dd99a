import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import { Anything, apiResponses, Duration, readDuration, readTime, TimeOrDuration } from './schemas.ts';

const MonitorQuery = Type.Object({
  since: Type.Optional(TimeOrDuration('from, default 1h ago')),
  bucket: Type.Optional(Duration('width of a bucket, from 1s to 1d, default 1m')),
}, { additionalProperties: false });

/** The overview and the monitor's series (queues and schedules have routes of their own). */
export function registerOverviewRoutes(app: FastifyInstance, room: ControlRoom): void {
  app.get('/api/overview', { schema: { summary: 'the last hour at a glance', tags: ['overview'], response: apiResponses({ 200: Anything('runs, workers, backlog, dead letters, beat and health') }, []) } }, async () => {
    const snapshot = room.poller.snapshot;
    const hour = snapshot.lastHour ?? {};
    const succeeded = hour.succeeded ?? 0;
    const failed = (hour.failed ?? 0) + (hour['dead-lettered'] ?? 0);
    const workers = room.registry.list();
    const beat = room.beat.view();
    return {
      lastHour: { succeeded, failed, retried: snapshot.retriedLastHour ?? 0, waitingToRetry: hour.retried ?? 0, active: (hour.started ?? 0) + (hour.received ?? 0), revoked: hour.revoked ?? 0,
        successRate: succeeded + failed === 0 ? null : succeeded / (succeeded + failed) },
      workers: { online: workers.filter((w) => w.status === 'online').length, offline: workers.filter((w) => w.status !== 'online').length,
        active: workers.reduce((sum, w) => sum + (w.status === 'online' ? w.active : 0), 0) },
      backlog: [...snapshot.queues.values()].reduce((sum, q) => sum + (q.depth ?? 0), 0),
      deadLettersPending: snapshot.deadLettersPending,
      historyRows: snapshot.historyRows,
      beat: { leader: beat.leader, redisUp: beat.lease.redisUp, lastDispatchAt: beat.lastDispatchAt, lastDispatchAgeMs: beat.lastDispatchAgeMs, overdue: beat.overdue, scheduled: room.beat.scheduled },
      health: room.backgroundHealth(),
      app: room.app ? { name: room.app.name, tasks: room.app.tasks.map((t) => t.name) } : null,
    };
  });
  app.get<{ Querystring: Static<typeof MonitorQuery> }>('/api/monitor', {
    schema: { summary: 'throughput by outcome, runtime percentiles and queue depth over time', tags: ['overview'], querystring: MonitorQuery, response: apiResponses({ 200: Anything('the series') }, [400, 503]) },
  }, async (request) => {
    const since = request.query.since ? readTime('since', request.query.since) : new Date(Date.now() - 3_600_000);
    const bucketMs = request.query.bucket ? readDuration('bucket', request.query.bucket, 1_000, 86_400_000) : 60_000;
    return { since: since.toISOString(), bucketMs, series: await room.taskRuns.series(since, bucketMs), depth: room.poller.snapshot.depthHistory };
  });
}
