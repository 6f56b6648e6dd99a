import { broadcastControl } from '@nightshift/broker';
import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import { notFound } from './api-error.ts';
import { QueryParams } from './query-params.ts';

/** Workers: list and detail from the registry (no broadcast); ping, active and reserved ask the one worker. */
export function registerWorkerRoutes(app: FastifyInstance, room: ControlRoom): void {
  app.get('/api/workers', async (request) => {
    const query = new QueryParams(request.query);
    const status = query.oneOf('status', ['online', 'offline'] as const);
    query.done();
    const workers = room.registry.list();
    return { items: status === undefined ? workers : workers.filter((w) => w.status === status) };
  });
  app.get<{ Params: { name: string } }>('/api/workers/:name', async (request) => {
    const worker = room.registry.get(request.params.name);
    if (worker === undefined) throw notFound(`worker ${JSON.stringify(request.params.name)}`);
    const ask = async (command: 'active' | 'reserved') => {
      if (worker.status !== 'online') return [];
      const replies = await broadcastControl(room.broker, command, {}, { destination: [worker.name], limit: 1, timeoutMs: 1_000 });
      return replies[0]?.reply ?? null;
    };
    const [active, reserved] = await Promise.all([ask('active'), ask('reserved')]);
    return { ...worker, tasks: { active, reserved } };
  });
  app.post<{ Params: { name: string } }>('/api/workers/:name/ping', async (request) => {
    const started = Date.now();
    const replies = await broadcastControl(room.broker, 'ping', {}, { destination: [request.params.name], limit: 1, timeoutMs: 2_000 });
    const roundTripMs = Date.now() - started;
    if (replies.length > 0) room.registry.pinged(request.params.name, roundTripMs);
    return { worker: request.params.name, answered: replies.length > 0, roundTripMs: replies.length > 0 ? roundTripMs : null };
  });
}
