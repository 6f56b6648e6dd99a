import { broadcastControl } from '@nightshift/broker';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import { notFound } from './api-error.ts';
import { Anything, apiResponses, OneOf, Text } from './schemas.ts';

const WorkerQuery = Type.Object({ status: Type.Optional(OneOf(['online', 'offline'] as const, 'online or offline')) }, { additionalProperties: false });
const WorkerParams = Type.Object({ name: Text('the worker\'s name') });

/** Workers: list and detail from the registry (no broadcast); ping, active and reserved ask the one worker. */
export function registerWorkerRoutes(app: FastifyInstance, room: ControlRoom): void {
  app.get<{ Querystring: Static<typeof WorkerQuery> }>('/api/workers', {
    schema: { summary: 'workers from their heartbeats', tags: ['workers'], querystring: WorkerQuery, response: apiResponses({ 200: Type.Object({ items: Type.Array(Anything('a worker')) }) }, [400]) },
  }, async (request) => {
    const { status } = request.query;
    const workers = room.registry.list();
    return { items: status === undefined ? workers : workers.filter((w) => w.status === status) };
  });
  app.get<{ Params: Static<typeof WorkerParams> }>('/api/workers/:name', {
    schema: { summary: 'one worker, with its active and reserved tasks', tags: ['workers'], params: WorkerParams, response: apiResponses({ 200: Anything('the worker and its tasks') }, [404]) },
  }, async (request) => {
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
  app.post<{ Params: Static<typeof WorkerParams> }>('/api/workers/:name/ping', {
    schema: {
      summary: 'ping one worker', tags: ['workers'], params: WorkerParams,
      response: apiResponses({ 200: Type.Object({ worker: Type.String(), answered: Type.Boolean(), roundTripMs: Type.Union([Type.Number(), Type.Null()]) }) }, [503], { mutation: true }),
    },
  }, async (request) => {
    const started = Date.now();
    const replies = await broadcastControl(room.broker, 'ping', {}, { destination: [request.params.name], limit: 1, timeoutMs: 2_000 });
    const roundTripMs = Date.now() - started;
    if (replies.length > 0) room.registry.pinged(request.params.name, roundTripMs);
    return { worker: request.params.name, answered: replies.length > 0, roundTripMs: replies.length > 0 ? roundTripMs : null };
  });
}
