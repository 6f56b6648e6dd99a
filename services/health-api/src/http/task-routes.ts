import { UnknownTaskError } from '@nightshift/core';
import { buildEnvelope, sendEnvelope } from '@nightshift/broker';
import { MAX_TASK_RUN_PAGE, TASK_RUN_SORT_NAMES, TASK_RUN_STATES, type TaskRunState } from '@nightshift/store';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import { ApiError, notFound } from './api-error.ts';
import { actorOf } from './worker-routes.ts';
import { Anything, apiResponses, Cursor, Duration, OneOf, Page, readTime, Text, TimeOrDuration } from './schemas.ts';

const TaskQuery = Type.Object({
  state: Type.Optional(Text(`comma-separated: ${TASK_RUN_STATES.join(', ')}`, { pattern: `^(${TASK_RUN_STATES.join('|')})(,(${TASK_RUN_STATES.join('|')}))*$` })),
  name: Type.Optional(Text('task name, exactly')),
  nameStartsWith: Type.Optional(Text('task names starting with this (case-insensitive)', { minLength: 1 })),
  nameContains: Type.Optional(Text('task names containing this (case-insensitive)', { minLength: 1 })),
  worker: Type.Optional(Text('worker name')),
  queue: Type.Optional(Text('queue')),
  since: Type.Optional(TimeOrDuration('sent at or after')),
  until: Type.Optional(TimeOrDuration('sent before')),
  id: Type.Optional(Text('id prefix')),
  sort: Type.Optional(OneOf(TASK_RUN_SORT_NAMES, 'the column to order by (then id), default sent')),
  order: Type.Optional(OneOf(['asc', 'desc'] as const, 'default desc')),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TASK_RUN_PAGE, description: 'page size, default 50' })),
  after: Type.Optional(Cursor),
}, { additionalProperties: false });

/** The states a run can be retried from: it ended without succeeding. */
const RETRYABLE: readonly TaskRunState[] = ['failed', 'dead-lettered', 'revoked'];

const RunParams = Type.Object({ id: Text('the task\'s id') });
const RevokeAnswer = Type.Object({
  id: Type.String(), terminate: Type.Boolean(),
  known: Type.Boolean({ description: 'whether the task history has a run with this id; if not (202) the revoke is kept for when it arrives' }),
  message: Type.String({ description: 'what was done, for a person' }),
  keptMs: Type.Number({ description: 'how long the revoke is kept in Redis for workers started later' }),
  replies: Type.Array(Anything('a worker\'s reply')),
});

const SendBody = Type.Object({
  task: Text('the task\'s name, as the app registers it', { minLength: 1 }),
  args: Type.Optional(Type.Array(Type.Unknown(), { description: 'positional arguments' })),
  kwargs: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'keyword arguments' })),
  queue: Type.Optional(Text('another queue than the task\'s')),
  countdown: Type.Optional(Duration('run no earlier than this long from now')),
  expires: Type.Optional(Duration('discard it if not started within')),
}, { additionalProperties: false });

const RevokeBody = Type.Object({ terminate: Type.Optional(Type.Boolean({ description: 'stop it if it is running' })) }, { additionalProperties: false });

/** Task runs from the history (list, detail with timeline and trace link); sending a task by name; revoking one. */
export function registerTaskRoutes(app: FastifyInstance, room: ControlRoom): void {
  app.get<{ Querystring: Static<typeof TaskQuery> }>('/api/tasks', {
    schema: { summary: 'task runs, newest first, keyset-paginated', tags: ['tasks'], querystring: TaskQuery, response: apiResponses({ 200: Page('task runs') }, [400, 503]) },
  }, async (request) => {
    const { state, id, since, until, nameStartsWith, nameContains, ...filters } = request.query;
    return room.taskRuns.list({
      ...Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined)),
      ...(id ? { idPrefix: id } : {}),
      ...(nameStartsWith ? { namePrefix: nameStartsWith } : {}),
      ...(nameContains ? { nameContains } : {}),
      ...(since ? { since: readTime('since', since) } : {}),
      ...(until ? { until: readTime('until', until) } : {}),
      ...(state ? { state: state.split(',') as TaskRunState[] } : {}),
    });
  });
  app.get<{ Params: Static<typeof RunParams> }>('/api/tasks/:id', {
    schema: { summary: 'a run with its timeline, error stack, trace link and the runs retrying it (`retries`)', tags: ['tasks'], params: RunParams, response: apiResponses({ 200: Anything('the run, its events, `traceUrl` and `retries`') }, [404, 503]) },
  }, async (request) => {
    const run = await room.taskRuns.get(request.params.id);
    if (run === undefined) throw notFound(`task run ${JSON.stringify(request.params.id)}`);
    const retries = await room.taskRuns.retriesOf(run.id);
    return { ...run, traceUrl: run.traceId ? traceLink(room.config.traceUrl, run.traceId) : null, retries };
  });
  app.post<{ Params: Static<typeof RunParams> }>('/api/tasks/:id/retry', {
    schema: {
      summary: 'send a failed, dead-lettered or revoked run again: the same task, args, kwargs and queue, a new id; its origin names the run it retries and who asked',
      tags: ['tasks'], params: RunParams, body: Type.Optional(Type.Object({}, { additionalProperties: false })),
      response: apiResponses({ 202: Type.Object({ id: Type.String(), retryOf: Type.String(), task: Type.String(), queue: Type.String(), sentAt: Type.String(), by: Type.String() }, { description: 'sent (confirmed by RabbitMQ)' }) }, [404, 409, 502, 503], { mutation: true }),
    },
  }, async (request, reply) => {
    if (room.app === undefined) throw new ApiError(409, 'E_NO_APP', 'retrying needs the app: start the health-api with --app <path>');
    const run = await room.taskRuns.get(request.params.id);
    if (run === undefined) throw notFound(`task run ${JSON.stringify(request.params.id)}`);
    if (!RETRYABLE.includes(run.state)) throw new ApiError(409, 'E_NOT_RETRYABLE', `task run ${JSON.stringify(run.id)} is ${run.state}: only a ${RETRYABLE.join(', ')} run can be retried`);
    if (room.app.task(run.name) === undefined) throw new UnknownTaskError(run.name);
    const actor = actorOf(request.principal);
    const by = actor.actor;
    const envelope = buildEnvelope(room.app, run.name, run.args ?? [], {
      ...(run.queue ? { queue: run.queue } : {}), ...(run.kwargs ? { kwargs: run.kwargs } : {}), origin: { type: 'retry', retryOf: run.id, by },
    }, `health-api:${by}`);
    await sendEnvelope(room.broker, envelope, room.events);
    // In the audit trail of controls too (who, when, what), beside the new run's origin.
    await room.controlActions.record({ ...actor, action: 'retry', worker: null, args: { id: run.id, task: run.name, newId: envelope.id }, outcome: 'ok', replies: [] });
    void reply.code(202);
    return { id: envelope.id, retryOf: run.id, task: envelope.task, queue: envelope.queue, sentAt: envelope.sentAt, by };
  });
  app.post<{ Body: Static<typeof SendBody> }>('/api/tasks', {
    schema: {
      summary: 'send a task by name (Flower\'s async-apply)', tags: ['tasks'], body: SendBody,
      response: apiResponses({ 202: Type.Object({ id: Type.String(), task: Type.String(), queue: Type.String(), sentAt: Type.String() }, { description: 'sent (confirmed by RabbitMQ)' }) }, [400, 404, 409, 502, 503], { mutation: true }),
    },
  }, async (request, reply) => {
    const { task, args, kwargs, queue, countdown, expires } = request.body;
    if (room.app === undefined) throw new ApiError(409, 'E_NO_APP', 'sending by name needs the app: start the health-api with --app <path>');
    if (room.app.task(task) === undefined) throw new UnknownTaskError(task);
    const envelope = buildEnvelope(room.app, task, args ?? [], {
      ...(queue ? { queue } : {}), ...(countdown ? { countdown } : {}), ...(expires ? { expires } : {}), ...(kwargs ? { kwargs } : {}),
    }, `health-api:${request.principal?.user ?? 'anonymous'}`);
    await sendEnvelope(room.broker, envelope, room.events);
    void reply.code(202);
    return { id: envelope.id, task: envelope.task, queue: envelope.queue, sentAt: envelope.sentAt };
  });
  app.post<{ Params: Static<typeof RunParams>; Body: Static<typeof RevokeBody> | undefined }>('/api/tasks/:id/revoke', {
    schema: {
      summary: 'revoke a task that has not finished (terminate: stop it if running); kept in Redis so a worker started later skips it too; recorded (who, when). 202 for an id the history does not know (yet): kept, skipped if it arrives', tags: ['tasks'], params: RunParams, body: RevokeBody,
      response: apiResponses({ 200: RevokeAnswer, 202: RevokeAnswer }, [400, 409, 503], { mutation: true }),
    },
  }, async (request, reply) => {
    const terminate = request.body?.terminate === true;
    const { id } = request.params;
    const revoked = await room.remote.revoke(id, terminate, actorOf(request.principal));
    // Unknown to the history: kept and waited for (202, accepted), not refused; the answer says which it was.
    const message = revoked.known
      ? `revoked ${id}${terminate ? ' (terminated if running)' : ''}`
      : `no run of ${id} in the task history yet: the revoke is kept, and the task will be skipped if it arrives`;
    return reply.code(revoked.known ? 200 : 202).send({ id, terminate, known: revoked.known, message, keptMs: revoked.keptMs, replies: revoked.replies });
  });
}

function traceLink(base: string | undefined, traceId: string): string | null {
  if (base === undefined) return null;
  return base.includes('{traceId}') ? base.replaceAll('{traceId}', traceId) : `${base.replace(/\/$/, '')}/${traceId}`;
}
