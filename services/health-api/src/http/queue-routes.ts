import { MAX_PEEK, peekQueue, prefixQueues, promoteDelayed, type PrefixQueue } from '@nightshift/broker';
import { QueueActions } from '@nightshift/store';
import { redact } from '@nightshift/telemetry';
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import type { QueueView } from '../live/state-poller.ts';
import { notFound } from './api-error.ts';
import { Anything, apiResponses, Text } from './schemas.ts';

const QueueParams = Type.Object({ name: Text('a work queue\'s name (`default`) or a broker queue\'s (`nightshift.retry.30s`, `nightshift.dead-letters`)') });
const QueueQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PEEK, description: `how many waiting tasks to show, default 50, at most ${MAX_PEEK}` })),
}, { additionalProperties: false });
const PromoteBody = Type.Object({ id: Text('the delayed task\'s id', { minLength: 1 }) }, { additionalProperties: false });
const QueueList = Type.Object({ items: Type.Array(Anything('a queue: `name`, `kind` (work, retry, dead-letters), `brokerName`, depth, consumers, rates')), polledAt: Type.Union([Type.String(), Type.Null()]) });

/**
 * Every queue of the prefix (work queues, each step of the retry ladder, the dead-letters queue): depth,
 * consumers and rates from the poller; a queue's waiting tasks; purge (audited); promote a delayed task.
 */
export function registerQueueRoutes(app: FastifyInstance, room: ControlRoom): void {
  const actions = new QueueActions(room.store);
  const find = (name: string): { queue: PrefixQueue; view: QueueView | undefined } => {
    const snapshot = room.poller.snapshot;
    const queue = prefixQueues(room.broker, [...snapshot.queues.keys()]).find((q) => q.name === name || (q.kind === 'work' && q.queue === name));
    if (queue === undefined) throw notFound(`queue ${JSON.stringify(name)}`);
    return { queue, view: queue.kind === 'work' ? snapshot.queues.get(queue.queue ?? '') : snapshot.ladder.get(queue.name) };
  };
  const who = (request: { principal?: { user: string } }) => request.principal?.user ?? 'anonymous';

  app.get('/api/queues', {
    schema: { summary: 'every queue of the prefix: work queues, retry-ladder steps, dead letters', tags: ['queues'], response: apiResponses({ 200: QueueList }, []) },
  }, async () => {
    const { queues, ladder, polledAt } = room.poller.snapshot;
    return {
      items: [...[...queues.values()].map((q) => ({ ...q, kind: 'work', brokerName: room.broker.names.queue(q.name) })), ...ladder.values()],
      polledAt,
    };
  });

  app.get<{ Params: Static<typeof QueueParams>; Querystring: Static<typeof QueueQuery> }>('/api/queues/:name', {
    schema: {
      summary: 'one queue and the tasks waiting in it', tags: ['queues'], params: QueueParams, querystring: QueueQuery,
      response: apiResponses({ 200: Anything('`queue`, `waiting` (`items`, `source`: broker or history) and the latest `actions` (purges, promotions)') }, [400, 404, 503]),
    },
  }, async (request) => {
    const { queue, view } = find(request.params.name);
    const limit = request.query.limit ?? 50;
    const waiting = queue.kind === 'work'
      // A peek of a work queue would count towards its delivery limit (a quorum queue counts every return): its
      // waiting tasks are the runs the history has as sent and not yet received.
      ? { source: 'history', items: (await room.taskRuns.list({ queue: queue.queue ?? '', state: 'sent', limit })).items.map((run, index) => ({
        position: null, index: index + 1, id: run.id, task: run.name, queue: run.queue, args: run.args, kwargs: run.kwargs, attempt: run.attempt, maxAttempts: run.maxAttempts,
        dueAt: null, sentAt: run.sentAt, reason: null, malformed: null,
      })) }
      : { source: 'broker', items: await peekQueue(room.broker, queue, limit) };
    return redact({
      queue: { ...(view ?? { name: queue.queue ?? queue.name, depth: null, consumers: null, missing: false }), kind: queue.kind, brokerName: queue.name, ...(queue.stepMs !== undefined ? { stepMs: queue.stepMs } : {}) },
      waiting: { ...waiting, at: new Date().toISOString() },
      actions: await actions.list(queue.name),
    }, room.redaction);
  });

  app.post<{ Params: Static<typeof QueueParams> }>('/api/queues/:name/purge', {
    schema: {
      summary: 'delete every message waiting in a queue (audited)', tags: ['queues'], params: QueueParams,
      response: apiResponses({ 200: Type.Object({ queue: Type.String(), purged: Type.Integer({ description: 'how many messages were deleted' }) }) }, [400, 404, 503], { mutation: true }),
    },
  }, async (request) => {
    const { queue } = find(request.params.name);
    const { messageCount } = await room.broker.withChannel((channel) => channel.purgeQueue(queue.name));
    await actions.record(queue.name, 'purged', who(request), { messages: messageCount });
    room.logger.info({ queue: queue.name, purged: messageCount, by: who(request) }, 'queue purged');
    void room.poller.poll();
    return { queue: queue.name, purged: messageCount };
  });

  app.post<{ Params: Static<typeof QueueParams>; Body: Static<typeof PromoteBody> }>('/api/queues/:name/promote', {
    schema: {
      summary: 'run a delayed task now: take it out of its retry-ladder step into its work queue (audited)', tags: ['queues'], params: QueueParams, body: PromoteBody,
      response: apiResponses({ 200: Anything('`id`, `task` and the `queue` it was sent to') }, [400, 404, 503], { mutation: true }),
    },
  }, async (request) => {
    const { queue } = find(request.params.name);
    if (queue.kind !== 'retry') throw notFound(`a retry-ladder step ${JSON.stringify(request.params.name)}`);
    const promoted = await promoteDelayed(room.broker, queue, request.body.id);
    if (promoted === undefined) throw notFound(`task ${request.body.id} waiting in ${queue.name}`);
    await actions.record(queue.name, 'promoted', who(request), { taskId: promoted.id, task: promoted.task, to: promoted.queue });
    void room.poller.poll();
    return promoted;
  });
}
