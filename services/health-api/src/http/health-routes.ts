import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import { Anything } from './schemas.ts';

/** A probe's schema: open (no credentials), 200 when healthy or degraded, 503 when critical. */
const probe = (summary: string, critical = 'critical') => ({
  schema: { summary, tags: ['health'], security: [], response: { 200: Anything('healthy or degraded'), 503: Anything(critical) } },
});

/**
 * The probes. Each answers from state kept current in the background (heartbeats, the poller), so a probe
 * costs a few object reads: no broadcast, no query, whatever the rate of probes.
 */
export function registerHealthRoutes(app: FastifyInstance, room: ControlRoom): void {
  app.get('/health/live', { schema: { summary: 'the process answers', tags: ['health'], security: [], response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({ status: 'ok' }));
  app.get('/health/ready', probe('RabbitMQ and PostgreSQL are reachable; `brokerNode` is the RabbitMQ node (host:port) in use', 'one of them is not'), async (_request, reply) => {
    const broker = room.broker.connected;
    const database = room.poller.snapshot.storeUp;
    const ready = broker && database;
    void reply.code(ready ? 200 : 503);
    return {
      status: ready ? 'ok' : 'critical', broker: broker ? 'up' : 'down', database: database ? 'up' : 'down',
      // Which node of the cluster this replica's connection uses (host:port), so a failover shows here.
      ...(room.broker.node !== undefined ? { brokerNode: room.broker.node } : {}),
      ...(ready ? {} : { reason: [broker ? '' : 'RabbitMQ is not reachable', database ? '' : 'PostgreSQL is not reachable'].filter(Boolean).join('; ') }),
    };
  });
  app.get('/health/workers', probe('workers online (200) or none answered recently (503, critical)'), async (_request, reply) => {
    const health = room.workersHealth();
    void reply.code(health.status === 'critical' ? 503 : 200);
    return health;
  });
  app.get('/health/background', probe('workers, queue depths, dead letters, failure rate and beat: healthy / degraded (200) / critical (503)'), async (_request, reply) => {
    const health = room.backgroundHealth();
    void reply.code(health.status === 'critical' ? 503 : 200);
    return health;
  });
}
