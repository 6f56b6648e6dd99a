import { broadcastControl } from '@nightshift/broker';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { MAX_CONTROL_ACTION_PAGE } from '@nightshift/store';
import type { ControlRoom } from '../control-room.ts';
import { WORKER_ACTIONS, type Actor } from '../remote-control.ts';
import type { Principal } from './auth.ts';
import { notFound } from './api-error.ts';
import { Anything, apiResponses, OneOf, Text } from './schemas.ts';

const WorkerQuery = Type.Object({ status: Type.Optional(OneOf(['online', 'offline', 'lost'] as const, 'online, offline (said goodbye) or lost (went without)')) }, { additionalProperties: false });

const ControlBody = Type.Object({
  action: OneOf(WORKER_ACTIONS, WORKER_ACTIONS.join(', ')),
  n: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'pool-grow, pool-shrink: by how many sandboxes (default 1)' })),
  min: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'autoscale: the least sandboxes' })),
  max: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'autoscale: the most sandboxes' })),
  queue: Type.Optional(Text('add-consumer, cancel-consumer: the queue')),
  task: Type.Optional(Text('rate-limit: the task\'s name')),
  rate: Type.Optional(Type.Union([Type.String({ description: 'rate-limit: "<count>/<s|m|h>", e.g. "100/m", or "none"' }), Type.Null()])),
}, { additionalProperties: false });

const ActionsQuery = Type.Object({
  worker: Type.Optional(Text('only this worker\'s actions (and broadcasts such as revokes)')),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_CONTROL_ACTION_PAGE, description: 'how many, newest first (default 50)' })),
}, { additionalProperties: false });

/** Who acts, for the audit: the dashboard's signed-in user, or the API token's principal. */
export function actorOf(principal: Principal | undefined): Actor {
  return { actor: principal?.user ?? 'anonymous', via: principal?.via === 'token' ? 'api' : 'dashboard' };
}
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
  app.post<{ Params: Static<typeof WorkerParams>; Body: Static<typeof ControlBody> }>('/api/workers/:name/control', {
    schema: {
      summary: 'a worker control: shutdown, pool-restart, pool-grow, pool-shrink, autoscale, add-consumer, cancel-consumer, rate-limit (recorded: who, when)',
      tags: ['workers'], params: WorkerParams, body: ControlBody,
      response: apiResponses({ 200: Anything('the worker\'s reply (`replies[0]`: what it did, its pool size and queues) and the audit row') }, [400, 404, 409, 503], { mutation: true }),
    },
  }, async (request) => {
    const worker = room.registry.get(request.params.name);
    if (worker === undefined) throw notFound(`worker ${JSON.stringify(request.params.name)}`);
    const { action, ...args } = request.body;
    return room.remote.control(worker.name, action, args, actorOf(request.principal));
  });
  app.get<{ Querystring: Static<typeof ActionsQuery> }>('/api/control-actions', {
    schema: { summary: 'the audit trail of worker controls and revokes, newest first', tags: ['workers'], querystring: ActionsQuery, response: apiResponses({ 200: Type.Object({ items: Type.Array(Anything('an action: who, when, via, what, the outcome and replies')) }) }, [400, 503]) },
  }, async (request) => ({ items: await room.controlActions.list(request.query) }));
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
