import { DEAD_LETTER_STATUSES, MAX_DEAD_LETTER_PAGE, type DeadLetterFilter } from '@nightshift/store';
import { brokerReplayPublisher } from '@nightshift/broker';
import { redact } from '@nightshift/telemetry';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import { BulkRequeueRunner } from '../dead-letter-bulk.ts';
import { notFound } from './api-error.ts';
import { Anything, apiResponses, Cursor, OneOf, Page, readTime, Text, TimeOrDuration } from './schemas.ts';

const FILTER = {
  status: Type.Optional(OneOf(DEAD_LETTER_STATUSES, DEAD_LETTER_STATUSES.join(', '))),
  task: Type.Optional(Text('task name')),
  reason: Type.Optional(Text('why it died: failed, unknown_task, malformed, expired, rejected, delivery_limit, maxlen')),
  errorClass: Type.Optional(Text('the error\'s class, e.g. TimeoutError')),
  since: Type.Optional(TimeOrDuration('last failed at or after')),
  until: Type.Optional(TimeOrDuration('last failed before')),
  taskId: Type.Optional(Text('the task message\'s id: the dead letter of that task')),
};
const DeadLetterQuery = Type.Object({
  ...FILTER,
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DEAD_LETTER_PAGE, description: 'page size, default 50' })),
  after: Type.Optional(Cursor),
}, { additionalProperties: false });
const CountQuery = Type.Object(FILTER, { additionalProperties: false });

const DeadLetterParams = Type.Object({ id: Text('the dead letter\'s id: a whole number') });
const JobParams = Type.Object({ job: Text('the bulk requeue\'s id') });

const RequeueBody = Type.Object({
  force: Type.Optional(Type.Boolean({ description: 'send it again even if it was requeued before' })),
  note: Type.Optional(Text('why')),
  args: Type.Optional(Type.Array(Type.Unknown(), { description: 'run the replay with these args instead (kept in the audit trail with the old ones)' })),
  kwargs: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'run the replay with these kwargs instead' })),
}, { additionalProperties: false });

const IgnoreBody = Type.Object({
  note: Text('why it is ignored', { minLength: 1, pattern: '\\S' }),
  force: Type.Optional(Type.Boolean({ description: 'replace the review of a dead letter already ignored (who and why)' })),
}, { additionalProperties: false });

const BULK_FILTER = { task: FILTER.task, errorClass: FILTER.errorClass, reason: FILTER.reason, since: FILTER.since, until: FILTER.until };
const BulkLimit = Type.Integer({ minimum: 1, maximum: 100_000, description: 'at most this many: the count the person confirmed' });
const BulkRequeueBody = Type.Object({
  ...BULK_FILTER,
  limit: BulkLimit,
  perSecond: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 500, description: 'replays a second (SQS redrive velocity), default 10' })),
  note: Type.Optional(Text('why')),
}, { additionalProperties: false });
const BulkIgnoreBody = Type.Object({ ...BULK_FILTER, limit: BulkLimit, note: IgnoreBody.properties.note }, { additionalProperties: false });

type FilterInput = { [K in keyof typeof FILTER]?: string };

/**
 * Dead letters through the store's review API: list, count, show (redacted, without the raw body, with its audit
 * trail), requeue (its args edited if need be), ignore with a note, and the same in bulk by filter: ignore at once,
 * requeue paced in the background with its progress readable.
 */
export function registerDeadLetterRoutes(app: FastifyInstance, room: ControlRoom): void {
  const publish = brokerReplayPublisher(room.broker, room.events);
  const bulk = new BulkRequeueRunner(room.store, room.deadLetters, publish, room.logger);
  bulk.start();
  app.addHook('onClose', async () => bulk.close());
  const who = (request: { principal?: { user: string } }) => request.principal?.user ?? 'anonymous';

  app.get<{ Querystring: Static<typeof DeadLetterQuery> }>('/api/dead-letters', {
    schema: { summary: 'dead letters, newest first', tags: ['dead letters'], querystring: DeadLetterQuery, response: apiResponses({ 200: Page('dead letters') }, [400, 503]) },
  }, async (request) => {
    const { limit, after, ...filter } = request.query;
    return room.deadLetters.list({ ...readFilter(filter), ...(limit !== undefined ? { limit } : {}), ...(after !== undefined ? { after } : {}) });
  });
  app.get<{ Querystring: Static<typeof CountQuery> }>('/api/dead-letters/count', {
    schema: { summary: 'how many dead letters match: what a bulk action would touch', tags: ['dead letters'], querystring: CountQuery, response: apiResponses({ 200: Type.Object({ count: Type.Integer() }) }, [400, 503]) },
  }, async (request) => ({ count: await room.deadLetters.count(readFilter(request.query)) }));
  app.get<{ Params: Static<typeof DeadLetterParams> }>('/api/dead-letters/:id', {
    schema: { summary: 'one dead letter, redacted, with its reviews', tags: ['dead letters'], params: DeadLetterParams, response: apiResponses({ 200: Anything('the dead letter, without its raw body; `reviews`: its audit trail, oldest first') }, [400, 404, 503]) },
  }, async (request) => {
    const { body: _body, headers, properties: _properties, ...letter } = await room.deadLetters.get(request.params.id);
    const reviews = await room.deadLetters.reviews(request.params.id);
    return redact({ ...letter, headers, reviews }, room.redaction);
  });
  app.post<{ Params: Static<typeof DeadLetterParams>; Body: Static<typeof RequeueBody> | undefined }>('/api/dead-letters/:id/requeue', {
    schema: {
      summary: 'send the task again, its args edited if given', tags: ['dead letters'], params: DeadLetterParams, body: RequeueBody,
      response: apiResponses({ 200: Anything('the outcome of the requeue') }, [400, 404, 409, 502, 503], { mutation: true }),
    },
  }, async (request) => {
    const { force, note, args, kwargs } = request.body ?? {};
    const edit = args !== undefined || kwargs !== undefined ? { ...(args !== undefined ? { args } : {}), ...(kwargs !== undefined ? { kwargs } : {}) } : undefined;
    const [outcome] = await room.deadLetters.requeue({ ids: [request.params.id] }, {
      publish, force: force === true, by: who(request), ...(note ? { note } : {}), ...(edit ? { edit } : {}),
    });
    return outcome;
  });
  app.post<{ Params: Static<typeof DeadLetterParams>; Body: Static<typeof IgnoreBody> }>('/api/dead-letters/:id/ignore', {
    schema: {
      summary: 'set aside with a note', tags: ['dead letters'], params: DeadLetterParams, body: IgnoreBody,
      response: apiResponses({ 200: Type.Object({ id: Type.String(), status: Type.Literal('ignored') }) }, [400, 404, 409, 503], { mutation: true }),
    },
  }, async (request) => {
    const { note, force } = request.body;
    await room.deadLetters.ignore([request.params.id], { by: who(request), note }, { force: force === true });
    return { id: request.params.id, status: 'ignored' as const };
  });
  app.post<{ Body: Static<typeof BulkIgnoreBody> }>('/api/dead-letters/bulk/ignore', {
    schema: {
      summary: 'ignore the pending dead letters of a filter (at most `limit`, oldest first)', tags: ['dead letters'], body: BulkIgnoreBody,
      response: apiResponses({ 200: Type.Object({ ignored: Type.Integer() }) }, [400, 503], { mutation: true }),
    },
  }, async (request) => {
    const { limit, note, ...filter } = request.body;
    const ids = await room.deadLetters.idsMatching({ ...readFilter(filter), status: 'pending' }, limit);
    if (ids.length > 0) await room.deadLetters.ignore(ids, { by: who(request), note });
    return { ignored: ids.length };
  });
  app.post<{ Body: Static<typeof BulkRequeueBody> }>('/api/dead-letters/bulk/requeue', {
    schema: {
      summary: 'requeue the pending dead letters of a filter, paced; answers at once with the job to follow', tags: ['dead letters'], body: BulkRequeueBody,
      response: apiResponses({ 202: Anything('the job: `id`, `total`, `done`, `state`, `perSecond`') }, [400, 503], { mutation: true }),
    },
  }, async (request, reply) => {
    const { limit, perSecond, note, ...filter } = request.body;
    const job = await bulk.begin(readFilter(filter), { limit, perSecond: perSecond ?? 10, by: who(request), ...(note ? { note } : {}) });
    return reply.code(202).send(job);
  });
  app.get('/api/dead-letters/bulk', {
    schema: { summary: 'the latest bulk requeues, running ones first (kept in the store: they outlive a restart)', tags: ['dead letters'], response: apiResponses({ 200: Type.Object({ items: Type.Array(Anything('a job')) }) }, [503]) },
  }, async () => ({ items: await bulk.list() }));
  app.get<{ Params: Static<typeof JobParams> }>('/api/dead-letters/bulk/:job', {
    schema: { summary: 'a bulk requeue\'s progress, from any replica; `resumed`: times a health-api took it over after a restart', tags: ['dead letters'], params: JobParams, response: apiResponses({ 200: Anything('the job') }, [404, 503]) },
  }, async (request) => (await bulk.get(request.params.job)) ?? Promise.reject(notFound(`bulk requeue ${request.params.job}`)));
  app.post<{ Params: Static<typeof JobParams> }>('/api/dead-letters/bulk/:job/stop', {
    schema: { summary: 'stop a bulk requeue; the rest stay pending', tags: ['dead letters'], params: JobParams, response: apiResponses({ 200: Anything('the job') }, [404, 503], { mutation: true }) },
  }, async (request) => (await bulk.stop(request.params.job)) ?? Promise.reject(notFound(`bulk requeue ${request.params.job}`)));
}

function readFilter(query: FilterInput): DeadLetterFilter {
  const { since, until, taskId, status, ...rest } = query;
  return {
    ...Object.fromEntries(Object.entries(rest).filter(([, value]) => value !== undefined)),
    ...(status !== undefined ? { status: status as DeadLetterFilter['status'] & string } : {}),
    ...(since !== undefined ? { since: readTime('since', since) } : {}),
    ...(until !== undefined ? { until: readTime('until', until) } : {}),
    ...(taskId !== undefined ? { messageId: taskId } : {}),
  };
}
