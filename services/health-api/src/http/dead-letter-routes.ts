import { DEAD_LETTER_STATUSES, type DeadLetterStatus } from '@nightshift/store';
import { brokerReplayPublisher } from '@nightshift/broker';
import { redact } from '@nightshift/telemetry';
import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import { badParameter } from './api-error.ts';
import { QueryParams } from './query-params.ts';

/** Dead letters through the store's review API: list, show (redacted, without the raw body), requeue, ignore with a note. */
export function registerDeadLetterRoutes(app: FastifyInstance, room: ControlRoom): void {
  const publish = brokerReplayPublisher(room.broker);
  app.get('/api/dead-letters', async (request) => {
    const query = new QueryParams(request.query);
    const status = query.oneOf('status', DEAD_LETTER_STATUSES as readonly DeadLetterStatus[]);
    const task = query.string('task');
    const reason = query.string('reason');
    const since = query.time('since');
    const limit = query.integer('limit', 1, 1000);
    const after = query.string('after', /^[A-Za-z0-9_-]+$/);
    query.done();
    return room.deadLetters.list({
      ...(status ? { status } : {}), ...(task ? { task } : {}), ...(reason ? { reason } : {}), ...(since ? { since } : {}),
      ...(limit ? { limit } : {}), ...(after ? { after } : {}),
    });
  });
  app.get<{ Params: { id: string } }>('/api/dead-letters/:id', async (request) => {
    const { body: _body, headers, properties: _properties, ...letter } = await room.deadLetters.get(request.params.id);
    return redact({ ...letter, headers }, room.redaction);
  });
  app.post<{ Params: { id: string }; Body: { force?: unknown; note?: unknown } }>('/api/dead-letters/:id/requeue', async (request) => {
    const body = (request.body ?? {}) as { force?: unknown; note?: unknown };
    if (body.force !== undefined && typeof body.force !== 'boolean') throw badParameter('force', 'must be true or false');
    if (body.note !== undefined && typeof body.note !== 'string') throw badParameter('note', 'must be a string');
    const [outcome] = await room.deadLetters.requeue({ ids: [request.params.id] }, {
      publish, force: body.force === true, by: request.principal?.user ?? 'anonymous', ...(body.note ? { note: body.note as string } : {}),
    });
    return outcome;
  });
  app.post<{ Params: { id: string }; Body: { note?: unknown } }>('/api/dead-letters/:id/ignore', async (request) => {
    const note = (request.body as { note?: unknown } | undefined)?.note;
    if (typeof note !== 'string' || note.trim() === '') throw badParameter('note', 'say why it is ignored');
    // As before the store refused it: the dashboard's ignore replaces an earlier review.
    await room.deadLetters.ignore([request.params.id], { by: request.principal?.user ?? 'anonymous', note }, { force: true });
    return { id: request.params.id, status: 'ignored' };
  });
}
