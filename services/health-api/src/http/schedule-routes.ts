import type { ScheduleView } from '@nightshift/client';
import type { Static } from '@sinclair/typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import type { ScheduleEntryView } from '../live/beat-status.ts';
import { SchemaNotReadyError, StoreUnavailableError } from '@nightshift/core';
import { ApiError } from './api-error.ts';
import {
  BackfillBody, CreateBody, EntryAnswer, EntryParams, etag, PatchBody, PauseBody, readVersion, RunNowBody, RunsAnswer, RunsQuery, VersionHeaders,
} from './schedule-schemas.ts';
import { Anything, apiResponses } from './schemas.ts';

type Params = { Params: Static<typeof EntryParams> };
const by = (request: FastifyRequest) => request.principal?.user ?? 'anonymous';

/**
 * The schedule: every entry, the code's and the runtime's, with what beat was last seen doing about it; and the
 * operations on one entry, through the same `ScheduleOperations` as the client library and the CLI (same checks,
 * same errors). A change names the version it is made against in `If-Match`; reads give it as `ETag`.
 */
export function registerScheduleRoutes(app: FastifyInstance, room: ControlRoom): void {
  const schedules = () => {
    if (room.schedules === undefined) throw new ApiError(409, 'E_NO_APP', 'schedules need the app: start the health-api with --app <path>');
    return room.schedules;
  };

  app.get('/api/schedules', {
    schema: {
      summary: 'every schedule entry (the code\'s and the runtime\'s) with paused state, next runs, last dispatch and lag; the beat leader', tags: ['schedules'],
      response: apiResponses({ 200: Anything('the beat leader, its lease, the last dispatch, and `entries`: each entry as GET /api/schedules/{name} gives it, plus `lastScheduledFor`, `lastDispatchedAt`, `lastLagMs`, `overdueSince`, and `health` as the alerter judged it (status, cause, dueBy, lastSuccess, consecutiveFailures, judgedAt; null when not judged)') }, [503]),
    },
  }, async () => {
    const beat = room.beat.view();
    const seen = new Map(beat.entries.map((entry) => [entry.name, entry]));
    let views: ScheduleView[];
    let runtimeUnavailable: string | undefined;
    try {
      views = room.schedules === undefined ? [] : await room.schedules.list();
    } catch (error) {
      // At 3 AM with PostgreSQL down, the code's entries (which beat keeps dispatching) are still worth seeing.
      if (room.schedules === undefined || !(error instanceof StoreUnavailableError || error instanceof SchemaNotReadyError)) throw error;
      views = room.schedules.codeEntries();
      runtimeUnavailable = `${(error as Error).message}: runtime entries and paused states cannot be read; the code's entries are shown as the app defines them`;
    }
    return {
      timezone: room.app?.timezone ?? null, leader: beat.leader, lease: beat.lease, lastDispatcher: beat.lastDispatcher, lastDispatchAt: beat.lastDispatchAt,
      ...(runtimeUnavailable !== undefined ? { runtimeUnavailable } : {}),
      entries: views.map((view) => ({ ...withDispatch(view, seen.get(view.name), room.beat.lastDispatchOf(view.name)), health: room.scheduleHealthOf(view.name) })),
    };
  });

  app.post<{ Body: Static<typeof CreateBody> }>('/api/schedules', {
    schema: { summary: 'create a runtime entry', tags: ['schedules'], body: CreateBody, response: apiResponses({ 201: EntryAnswer }, [400, 409, 503], { mutation: true }) },
  }, async (request, reply) => {
    const view = await schedules().create(request.body, { by: by(request) });
    void reply.code(201).header('location', `/api/schedules/${encodeURIComponent(view.name)}`);
    return withEtag(reply, view);
  });

  app.get<Params>('/api/schedules/:name', {
    schema: { summary: 'one entry, of the code or the runtime', tags: ['schedules'], params: EntryParams, response: apiResponses({ 200: EntryAnswer }, [404, 503]) },
  }, async (request, reply) => {
    return withEtag(reply, await schedules().get(request.params.name));
  });

  app.patch<Params & { Body: Static<typeof PatchBody>; Headers: Static<ReturnType<typeof VersionHeaders>> }>('/api/schedules/:name', {
    schema: {
      summary: 'change a runtime entry: the fields given (null removes one), against the version in If-Match', tags: ['schedules'],
      params: EntryParams, headers: VersionHeaders(true), body: PatchBody, response: apiResponses({ 200: EntryAnswer }, [400, 404, 409, 503], { mutation: true }),
    },
  }, async (request, reply) => {
    return withEtag(reply, await schedules().update(request.params.name, request.body, { by: by(request), version: readVersion(request.headers['if-match']) as number }));
  });

  app.delete<Params & { Headers: Static<ReturnType<typeof VersionHeaders>> }>('/api/schedules/:name', {
    schema: {
      summary: 'remove a runtime entry (If-Match: only at that version)', tags: ['schedules'], params: EntryParams, headers: VersionHeaders(false),
      response: apiResponses({ 200: Anything('`{ name, removed: true }`') }, [400, 404, 409, 503], { mutation: true }),
    },
  }, async (request) => {
    const version = readVersion(request.headers['if-match']);
    await schedules().remove(request.params.name, { by: by(request), ...(version !== undefined ? { version } : {}) });
    return { name: request.params.name, removed: true };
  });

  app.post<Params & { Body: Static<typeof PauseBody> | undefined }>('/api/schedules/:name/pause', {
    schema: { summary: 'pause an entry, with a note: its runs are not sent, and counted missed (paused)', tags: ['schedules'], params: EntryParams, body: PauseBody, response: apiResponses({ 200: EntryAnswer }, [400, 404, 503], { mutation: true }) },
  }, async (request) => schedules().pause(request.params.name, { by: by(request), note: request.body?.note ?? null }));

  app.post<Params>('/api/schedules/:name/resume', {
    schema: { summary: 'resume an entry from its next fire time (the missed ones are not caught up)', tags: ['schedules'], params: EntryParams, response: apiResponses({ 200: EntryAnswer }, [404, 503], { mutation: true }) },
  }, async (request) => schedules().resume(request.params.name, { by: by(request) }));

  app.post<Params & { Body: Static<typeof RunNowBody> | undefined }>('/api/schedules/:name/run-now', {
    schema: {
      summary: 'send one run now (origin manual); refused (409 E_SCHEDULE_OVERLAP) while the last run of an entry whose overlap is skip or buffer-one has not finished, unless force',
      tags: ['schedules'], params: EntryParams, body: RunNowBody, response: apiResponses({ 202: Anything('`{ id, sent: true }`') }, [400, 404, 409, 503], { mutation: true }),
    },
  }, async (request, reply) => {
    const outcome = await schedules().runNow(request.params.name, { by: by(request), force: request.body?.force === true });
    if (!outcome.sent) {
      throw new ApiError(409, 'E_SCHEDULE_OVERLAP', `not sent: the last run of ${JSON.stringify(request.params.name)} (${outcome.running}) has not finished, and its overlap policy does not allow another; force sends one anyway`);
    }
    void reply.code(202);
    return outcome;
  });

  app.post<Params & { Body: Static<typeof BackfillBody> }>('/api/schedules/:name/backfill', {
    schema: {
      summary: 'send each fire time of a past range once, oldest first, at a bounded rate; a fire time already sent is not sent again', tags: ['schedules'],
      params: EntryParams, body: BackfillBody, response: apiResponses({ 200: Anything('`{ fireTimes, sent, alreadyThere }`') }, [400, 404, 503], { mutation: true }),
    },
  }, async (request, reply) => {
    const { from, to, ratePerSecond } = request.body;
    // A caller that hangs up stops the backfill between two fire times; what was sent stays sent (and claimed).
    const hungUp = new AbortController();
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) hungUp.abort(new Error('the caller hung up'));
    });
    return schedules().backfill(request.params.name, {
      from: new Date(from), to: new Date(to), by: by(request), signal: hungUp.signal, ...(ratePerSecond !== undefined ? { ratePerSecond } : {}),
    });
  });

  app.get<Params & { Querystring: Static<typeof RunsQuery> }>('/api/schedules/:name/runs', {
    schema: {
      summary: 'an entry\'s next fire times and its recent fires, newest first: sent (run, lateness, outcome, runtime) or not and why', tags: ['schedules'],
      params: EntryParams, querystring: RunsQuery, response: apiResponses({ 200: RunsAnswer }, [400, 404, 503]),
    },
  }, async (request) => schedules().history(request.params.name, { ...request.query }));
}

/** The entry, its version as the answer's `ETag` (a runtime entry's; one of the code has none). */
function withEtag(reply: FastifyReply, view: ScheduleView): ScheduleView {
  if (view.version !== null) void reply.header('etag', etag(view.version));
  return view;
}

/** An entry with what beat was last seen doing about it; a paused entry is never overdue. */
function withDispatch(view: ScheduleView, code: ScheduleEntryView | undefined, last: ReturnType<ControlRoom['beat']['lastDispatchOf']>) {
  return {
    ...view,
    lastScheduledFor: last?.scheduledFor ?? null,
    lastDispatchedAt: last?.dispatchedAt ?? null,
    lastLagMs: last?.lagMs ?? null,
    overdueSince: view.paused ? null : code?.overdueSince ?? null,
  };
}
