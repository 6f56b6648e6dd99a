import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import { QueryParams } from './query-params.ts';

/** The overview, queues, schedules and the monitor's series. */
export function registerOverviewRoutes(app: FastifyInstance, room: ControlRoom): void {
  app.get('/api/overview', async () => {
    const snapshot = room.poller.snapshot;
    const hour = snapshot.lastHour ?? {};
    const succeeded = hour.succeeded ?? 0;
    const failed = (hour.failed ?? 0) + (hour['dead-lettered'] ?? 0);
    const workers = room.registry.list();
    const beat = room.beat.view();
    return {
      lastHour: { succeeded, failed, retried: hour.retried ?? 0, active: (hour.started ?? 0) + (hour.received ?? 0), revoked: hour.revoked ?? 0,
        successRate: succeeded + failed === 0 ? null : succeeded / (succeeded + failed) },
      workers: { online: workers.filter((w) => w.status === 'online').length, offline: workers.filter((w) => w.status === 'offline').length,
        active: workers.reduce((sum, w) => sum + (w.status === 'online' ? w.active : 0), 0) },
      backlog: [...snapshot.queues.values()].reduce((sum, q) => sum + (q.depth ?? 0), 0),
      deadLettersPending: snapshot.deadLettersPending,
      historyRows: snapshot.historyRows,
      beat: { leader: beat.leader, redisUp: beat.lease.redisUp, lastDispatchAt: beat.lastDispatchAt, lastDispatchAgeMs: beat.lastDispatchAgeMs, overdue: beat.overdue, scheduled: room.beat.scheduled },
      health: room.backgroundHealth(),
      app: room.app ? { name: room.app.name, tasks: room.app.tasks.map((t) => t.name) } : null,
    };
  });
  app.get('/api/queues', async () => ({ items: [...room.poller.snapshot.queues.values()], polledAt: room.poller.snapshot.polledAt }));
  app.get('/api/schedules', async () => {
    const beat = room.beat.view();
    return {
      timezone: room.app?.timezone ?? null, leader: beat.leader, lease: beat.lease, lastDispatcher: beat.lastDispatcher,
      lastDispatchAt: beat.lastDispatchAt, entries: beat.entries,
    };
  });
  app.get('/api/monitor', async (request) => {
    const query = new QueryParams(request.query);
    const since = query.time('since') ?? new Date(Date.now() - 3_600_000);
    const bucketMs = query.duration('bucket', 1_000, 86_400_000) ?? 60_000;
    query.done();
    return { since: since.toISOString(), bucketMs, series: await room.taskRuns.series(since, bucketMs), depth: room.poller.snapshot.depthHistory };
  });
}
