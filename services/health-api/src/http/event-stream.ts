import type { LifecycleEvent } from '@nightshift/broker';
import { redact } from '@nightshift/telemetry';
import type { FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';

/** How often buffered events go out, so a burst is one message, not thousands. */
const COALESCE_MS = 250;
/** Events sent per message at most; beyond that only counts go (a dashboard reloads its lists from the API). */
const MAX_EVENTS_PER_MESSAGE = 200;
const KEEPALIVE_MS = 15_000;

/**
 * `GET /api/events`: Server-Sent Events of every lifecycle event this replica sees, coalesced every 250 ms into
 * one `events` message `{ events, counts, dropped }`; `dropped` says how many were left out of `events`
 * (counted in `counts`) when more than 200 arrived in one tick.
 */
export function registerEventStream(app: FastifyInstance, room: ControlRoom): void {
  app.get('/api/events', {
    schema: {
      summary: 'Server-Sent Events: lifecycle events, coalesced every 250 ms', tags: ['overview'],
      response: { 200: { description: 'an event stream: `events` messages of `{ events, counts, dropped }`', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
    },
  }, (request, reply) => {
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no',
    });
    response.write('retry: 2000\n\n');
    let pending: LifecycleEvent[] = [];
    let counts: Record<string, number> = {};
    let dropped = 0;
    const flush = () => {
      if (pending.length === 0 && dropped === 0) return;
      const body = JSON.stringify({ events: redact(pending, room.redaction), counts, dropped });
      pending = [];
      counts = {};
      dropped = 0;
      response.write(`event: events\ndata: ${body}\n\n`);
    };
    const timer = setInterval(flush, COALESCE_MS);
    const keepalive = setInterval(() => response.write(': keepalive\n\n'), KEEPALIVE_MS);
    const unlisten = room.feed.listen((events) => {
      for (const event of events) {
        counts[event.type] = (counts[event.type] ?? 0) + 1;
        if (pending.length < MAX_EVENTS_PER_MESSAGE) pending.push(event);
        else dropped += 1;
      }
    });
    const close = () => {
      clearInterval(timer);
      clearInterval(keepalive);
      unlisten();
    };
    request.raw.on('close', close);
    response.on('error', close);
  });
}
