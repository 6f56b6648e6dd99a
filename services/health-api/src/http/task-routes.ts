import { UnknownTaskError } from '@nightshift/core';
import { broadcastControl, buildEnvelope, sendEnvelope } from '@nightshift/broker';
import { TASK_RUN_STATES, type TaskRunState } from '@nightshift/store';
import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import { ApiError, badParameter, notFound } from './api-error.ts';
import { QueryParams } from './query-params.ts';

interface SendBody {
  task?: unknown; args?: unknown; kwargs?: unknown; queue?: unknown; countdown?: unknown; expires?: unknown;
}

/** Task runs from the history (list, detail with timeline and trace link); sending a task by name; revoking one. */
export function registerTaskRoutes(app: FastifyInstance, room: ControlRoom): void {
  app.get('/api/tasks', async (request) => {
    const query = new QueryParams(request.query);
    const states = query.string('state')?.split(',');
    for (const state of states ?? []) if (!(TASK_RUN_STATES as readonly string[]).includes(state)) throw badParameter('state', `${JSON.stringify(state)} must be one of ${TASK_RUN_STATES.join(', ')}`);
    const filters = {
      name: query.string('name'), worker: query.string('worker'), queue: query.string('queue'), since: query.time('since'), until: query.time('until'),
      idPrefix: query.string('id'), limit: query.integer('limit', 1, 500), after: query.string('after', /^[A-Za-z0-9_-]+$/),
    };
    query.done();
    const page = await room.taskRuns.list({
      ...Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined)),
      ...(states ? { state: states as TaskRunState[] } : {}),
    });
    return page;
  });
  app.get<{ Params: { id: string } }>('/api/tasks/:id', async (request) => {
    const run = await room.taskRuns.get(request.params.id);
    if (run === undefined) throw notFound(`task run ${JSON.stringify(request.params.id)}`);
    return { ...run, traceUrl: run.traceId ? traceLink(room.config.traceUrl, run.traceId) : null };
  });
  app.post<{ Body: SendBody }>('/api/tasks', async (request, reply) => {
    const body: SendBody = typeof request.body === 'object' && request.body !== null ? request.body : {};
    if (room.app === undefined) throw new ApiError(409, 'E_NO_APP', 'sending by name needs the app: start the health-api with --app <path>');
    if (typeof body.task !== 'string' || body.task === '') throw badParameter('task', 'must be a task name');
    if (room.app.task(body.task) === undefined) throw new UnknownTaskError(body.task);
    if (body.args !== undefined && !Array.isArray(body.args)) throw badParameter('args', 'must be a JSON array');
    if (body.kwargs !== undefined && (typeof body.kwargs !== 'object' || body.kwargs === null || Array.isArray(body.kwargs))) throw badParameter('kwargs', 'must be a JSON object');
    for (const field of ['queue', 'countdown', 'expires'] as const) if (body[field] !== undefined && typeof body[field] !== 'string') throw badParameter(field, 'must be a string');
    const envelope = buildEnvelope(room.app, body.task, (body.args ?? []) as unknown[], {
      ...(body.queue ? { queue: body.queue as string } : {}), ...(body.countdown ? { countdown: body.countdown as string } : {}),
      ...(body.expires ? { expires: body.expires as string } : {}), ...(body.kwargs ? { kwargs: body.kwargs as Record<string, unknown> } : {}),
    }, `health-api:${request.principal?.user ?? 'anonymous'}`);
    await sendEnvelope(room.broker, envelope, room.events);
    void reply.code(202);
    return { id: envelope.id, task: envelope.task, queue: envelope.queue, sentAt: envelope.sentAt };
  });
  app.post<{ Params: { id: string }; Body: { terminate?: unknown } }>('/api/tasks/:id/revoke', async (request) => {
    const terminate = (request.body as { terminate?: unknown } | undefined)?.terminate;
    if (terminate !== undefined && typeof terminate !== 'boolean') throw badParameter('terminate', 'must be true or false');
    const replies = await broadcastControl(room.broker, 'revoke', { id: request.params.id, terminate: terminate === true }, { timeoutMs: 1_000, limit: Math.max(1, room.registry.online().length) });
    return { id: request.params.id, terminate: terminate === true, replies: replies.map((r) => ({ worker: r.worker, reply: r.reply })) };
  });
}

function traceLink(base: string | undefined, traceId: string): string | null {
  if (base === undefined) return null;
  return base.includes('{traceId}') ? base.replaceAll('{traceId}', traceId) : `${base.replace(/\/$/, '')}/${traceId}`;
}
