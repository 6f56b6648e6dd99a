import Fastify, { type FastifyInstance } from 'fastify';
import type { ControlRoom } from '../control-room.ts';
import { errorResponse } from './api-error.ts';
import { registerApiDocument, serveApiDocument } from './api-document.ts';
import { Auth } from './auth.ts';
import { registerDashboard } from './dashboard.ts';
import { registerDeadLetterRoutes } from './dead-letter-routes.ts';
import { registerEventStream } from './event-stream.ts';
import { registerHealthRoutes } from './health-routes.ts';
import { registerOverviewRoutes } from './overview-routes.ts';
import { registerQueueRoutes } from './queue-routes.ts';
import { asBadParameter, validatorCompiler } from './request-validation.ts';
import { registerRunbook } from './runbook.ts';
import { registerScheduleRoutes } from './schedule-routes.ts';
import { apiResponses, Anything } from './schemas.ts';
import { registerSecurityHeaders } from './security-headers.ts';
import { registerTaskRoutes } from './task-routes.ts';
import { registerWorkerRoutes } from './worker-routes.ts';

/** Paths anyone may read: probes must work without credentials, and an alert's runbook link without a login. */
const OPEN = /^\/(health\/|runbook(\?|$)|assets\/style\.css$)/;

/**
 * The health-api's HTTP surface: health probes (open), the JSON API and the dashboard (authenticated, CSRF
 * protected), the live event stream and the OpenAPI document. Every route declares its schema, which validates
 * its requests and documents it. Tests drive it with `inject()`.
 */
export function buildServer(room: ControlRoom): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: 1_048_576, return503OnClosing: true });
  app.setValidatorCompiler(validatorCompiler);
  // Response schemas document the answers; they do not filter them (fast-json-stringify would drop whatever a
  // schema leaves out, and most answers are documented as a whole rather than field by field).
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));
  const auth = new Auth({ users: room.config.users, apiToken: room.config.apiToken });
  registerSecurityHeaders(app);
  registerApiDocument(app);
  app.addHook('onRequest', async (request, reply) => {
    if (OPEN.test(request.url)) return;
    const principal = auth.authenticate(request, reply);
    request.principal = principal;
    auth.checkCsrf(request, principal);
  });
  app.setErrorHandler((error, request, reply) => {
    const { status, body } = errorResponse(asBadParameter(error));
    if (status >= 500 && status !== 503) room.logger.error({ err: error, url: request.url }, 'request failed');
    void reply.code(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send({ error: { code: 'E_NOT_FOUND', message: `no route ${request.method} ${request.url.split('?')[0]}` } });
  });
  // The routes, in a plugin loaded after the document's and the headers' plugins, which see every route added.
  void app.register(async (routes) => {
    routes.get('/api/session', {
      schema: { summary: 'who you are and your CSRF token', tags: ['overview'], response: apiResponses({ 200: Anything('`user`, `csrfToken` and whether the API is `open`') }, []) },
    }, async (request) => ({ user: request.principal?.user ?? 'anonymous', csrfToken: auth.csrfToken(request.principal?.user ?? 'anonymous'), open: auth.open }));
    registerHealthRoutes(routes, room);
    registerOverviewRoutes(routes, room);
    registerWorkerRoutes(routes, room);
    registerTaskRoutes(routes, room);
    registerQueueRoutes(routes, room);
    registerDeadLetterRoutes(routes, room);
    registerScheduleRoutes(routes, room);
    registerEventStream(routes, room);
    registerDashboard(routes);
    registerRunbook(routes);
    serveApiDocument(routes);
  });
  return app;
}
