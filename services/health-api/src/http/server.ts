import Fastify, { type FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import { errorResponse } from './api-error.ts';
import { Auth } from './auth.ts';
import { registerDashboard } from './dashboard.ts';
import { registerDeadLetterRoutes } from './dead-letter-routes.ts';
import { registerEventStream } from './event-stream.ts';
import { registerHealthRoutes } from './health-routes.ts';
import { registerOpenApi } from './openapi.ts';
import { registerOverviewRoutes } from './overview-routes.ts';
import { registerRunbook } from './runbook.ts';
import { registerTaskRoutes } from './task-routes.ts';
import { registerWorkerRoutes } from './worker-routes.ts';

/** Paths anyone may read: probes must work without credentials, and an alert's runbook link without a login. */
const OPEN = /^\/(health\/|runbook(\?|$)|assets\/style\.css$)/;

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * The health-api's HTTP surface: health probes (open), the JSON API and the dashboard (authenticated, CSRF
 * protected), the live event stream and the OpenAPI document. Tests drive it with `inject()`.
 */
export function buildServer(room: ControlRoom): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1_048_576, return503OnClosing: true });
  const auth = new Auth({ users: room.config.users, apiToken: room.config.apiToken });
  app.addHook('onRequest', async (request, reply) => {
    void reply.headers(SECURITY_HEADERS);
    if (OPEN.test(request.url)) return;
    const principal = auth.authenticate(request, reply);
    request.principal = principal;
    auth.checkCsrf(request, principal);
  });
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = errorResponse(error);
    if (status >= 500 && status !== 503) room.logger.error({ err: error, url: request.url }, 'request failed');
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: 'E_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
  app.get('/api/session', async (request) => ({ user: request.principal?.user ?? 'anonymous', csrfToken: auth.csrfToken(request.principal?.user ?? 'anonymous'), open: auth.open }));
  registerHealthRoutes(app, room);
  registerOverviewRoutes(app, room);
  registerWorkerRoutes(app, room);
  registerTaskRoutes(app, room);
  registerDeadLetterRoutes(app, room);
  registerEventStream(app, room);
  registerOpenApi(app);
  registerDashboard(app);
  registerRunbook(app);
  return app;
}
