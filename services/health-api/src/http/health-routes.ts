import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';

/**
 * The probes. Each answers from state kept current in the background (heartbeats, the poller), so a probe
 * costs a few object reads: no broadcast, no query, whatever the rate of probes.
 */
export function registerHealthRoutes(app: FastifyInstance, room: ControlRoom): void {
  app.get('/health/live', async () => ({ status: 'ok' }));
  app.get('/health/ready', async (_request, reply) => {
    const broker = room.broker.connected;
    const database = room.poller.snapshot.storeUp;
    const ready = broker && database;
    void reply.code(ready ? 200 : 503);
    return {
      status: ready ? 'ok' : 'critical', broker: broker ? 'up' : 'down', database: database ? 'up' : 'down',
      ...(ready ? {} : { reason: [broker ? '' : 'RabbitMQ is not reachable', database ? '' : 'PostgreSQL is not reachable'].filter(Boolean).join('; ') }),
    };
  });
  app.get('/health/workers', async (_request, reply) => {
    const health = room.workersHealth();
    void reply.code(health.status === 'critical' ? 503 : 200);
    return health;
  });
  app.get('/health/background', async (_request, reply) => {
    const health = room.backgroundHealth();
    void reply.code(health.status === 'critical' ? 503 : 200);
    return health;
  });
}
