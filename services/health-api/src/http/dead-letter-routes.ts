import { DEAD_LETTER_STATUSES, MAX_DEAD_LETTER_PAGE } from '@nightshift/store';
import { brokerReplayPublisher } from '@nightshift/broker';
import { redact } from '@nightshift/telemetry';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import { Anything, apiResponses, Cursor, OneOf, Page, readTime, Text, TimeOrDuration } from './schemas.ts';

const DeadLetterQuery = Type.Object({
  status: Type.Optional(OneOf(DEAD_LETTER_STATUSES, DEAD_LETTER_STATUSES.join(', '))),
  task: Type.Optional(Text('task name')),
  reason: Type.Optional(Text('why it died: failed, unknown_task, malformed, expired, rejected, delivery_limit, maxlen')),
  since: Type.Optional(TimeOrDuration('last failed at or after')),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DEAD_LETTER_PAGE, description: 'page size, default 50' })),
  after: Type.Optional(Cursor),
}, { additionalProperties: false });

const DeadLetterParams = Type.Object({ id: Text('the dead letter\'s id: a whole number') });

const RequeueBody = Type.Object({
  force: Type.Optional(Type.Boolean({ description: 'send it again even if it was requeued before' })),
  note: Type.Optional(Text('why')),
}, { additionalProperties: false });

const IgnoreBody = Type.Object({
  note: Text('why it is ignored', { minLength: 1, pattern: '\\S' }),
  force: Type.Optional(Type.Boolean({ description: 'replace the review of a dead letter already ignored (who and why)' })),
}, { additionalProperties: false });

/** Dead letters through the store's review API: list, show (redacted, without the raw body), requeue, ignore with a note. */
export function registerDeadLetterRoutes(app: FastifyInstance, room: ControlRoom): void {
  const publish = brokerReplayPublisher(room.broker, room.events);
  app.get<{ Querystring: Static<typeof DeadLetterQuery> }>('/api/dead-letters', {
    schema: { summary: 'dead letters, newest first', tags: ['dead letters'], querystring: DeadLetterQuery, response: apiResponses({ 200: Page('dead letters') }, [400, 503]) },
  }, async (request) => {
    const { since, ...filters } = request.query;
    return room.deadLetters.list({
      ...Object.fromEntries(Object.entries(filters).filter(([, value]) => value !== undefined)),
      ...(since ? { since: readTime('since', since) } : {}),
    });
  });
  app.get<{ Params: Static<typeof DeadLetterParams> }>('/api/dead-letters/:id', {
    schema: { summary: 'one dead letter, redacted', tags: ['dead letters'], params: DeadLetterParams, response: apiResponses({ 200: Anything('the dead letter, without its raw body') }, [400, 404, 503]) },
  }, async (request) => {
    const { body: _body, headers, properties: _properties, ...letter } = await room.deadLetters.get(request.params.id);
    return redact({ ...letter, headers }, room.redaction);
  });
  app.post<{ Params: Static<typeof DeadLetterParams>; Body: Static<typeof RequeueBody> | undefined }>('/api/dead-letters/:id/requeue', {
    schema: {
      summary: 'send the task again', tags: ['dead letters'], params: DeadLetterParams, body: RequeueBody,
      response: apiResponses({ 200: Anything('the outcome of the requeue') }, [400, 404, 409, 502, 503], { mutation: true }),
    },
  }, async (request) => {
    const { force, note } = request.body ?? {};
    const [outcome] = await room.deadLetters.requeue({ ids: [request.params.id] }, {
      publish, force: force === true, by: request.principal?.user ?? 'anonymous', ...(note ? { note } : {}),
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
    await room.deadLetters.ignore([request.params.id], { by: request.principal?.user ?? 'anonymous', note }, { force: force === true });
    return { id: request.params.id, status: 'ignored' as const };
  });
}
