import type { FastifyInstance } from 'fastify';
import { TASK_RUN_STATES, DEAD_LETTER_STATUSES } from '@nightshift/store';

type Json = Record<string, unknown>;

const error = { $ref: '#/components/schemas/Error' };
const json = (schema: Json) => ({ content: { 'application/json': { schema } } });
const responses = (ok: Json, ...codes: number[]) => ({
  200: { description: 'OK', ...json(ok) },
  ...Object.fromEntries(codes.map((code) => [code, { description: DESCRIPTIONS[code] ?? 'error', ...json(error) }])),
});
const DESCRIPTIONS: Record<number, string> = { 400: 'a bad parameter (named in `error.parameter`)', 401: 'no or wrong credentials', 403: 'CSRF check failed', 404: 'not found', 409: 'refused in this state', 503: 'unhealthy or a dependency is down' };
const query = (name: string, description: string, schema: Json = { type: 'string' }) => ({ name, in: 'query', required: false, description, schema });
const path = (name: string) => ({ name, in: 'path', required: true, schema: { type: 'string' } });
const object = { type: 'object', additionalProperties: true };
const body = (properties: Json, required: string[] = []) => ({ required: required.length > 0, ...json({ type: 'object', properties, required }) });
const csrf = { name: 'x-nightshift-csrf', in: 'header', required: false, description: 'required with basic auth: the token from GET /api/session', schema: { type: 'string' } };
const health = (summary: string) => ({ get: { summary, security: [], responses: { 200: { description: 'healthy or degraded', ...json(object) }, 503: { description: 'critical', ...json(object) } } } });

/** The OpenAPI 3.1 document of the API, served at `/api/openapi.json`. */
export const OPENAPI: Json = {
  openapi: '3.1.0',
  info: { title: 'Nightshift health-api', version: '0.1.0', description: 'Health probes, task history, workers, queues, schedules and dead letters. Errors are `{ "error": { "code", "message", "parameter"? } }` with a stable code.' },
  security: [{ basic: [] }, { bearer: [] }],
  components: {
    securitySchemes: { basic: { type: 'http', scheme: 'basic' }, bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: { type: 'object', required: ['error'], properties: { error: { type: 'object', required: ['code', 'message'], properties: {
        code: { type: 'string', enum: ['E_BAD_PARAMETER', 'E_UNAUTHORIZED', 'E_CSRF', 'E_NOT_FOUND', 'E_UNKNOWN_TASK', 'E_NO_APP', 'E_DEAD_LETTER_NOT_FOUND', 'E_REQUEUE_REFUSED', 'E_BROKER_UNAVAILABLE', 'E_STORE_UNAVAILABLE', 'E_BAD_REQUEST', 'E_INTERNAL'] },
        message: { type: 'string' }, parameter: { type: 'string' } } } } },
      Page: { type: 'object', properties: { items: { type: 'array', items: object }, next: { type: 'string', description: 'pass as `after` for the next page' } } },
    },
  },
  paths: {
    '/health/live': health('the process answers'),
    '/health/ready': health('RabbitMQ and PostgreSQL are reachable'),
    '/health/workers': health('workers online (200) or none answered recently (503, critical)'),
    '/health/background': health('workers, queue depths, dead letters, failure rate and beat: healthy / degraded (200) / critical (503)'),
    '/api/session': { get: { summary: 'who you are and your CSRF token', responses: responses(object, 401) } },
    '/api/overview': { get: { summary: 'the last hour at a glance', responses: responses(object, 401) } },
    '/api/workers': { get: { summary: 'workers from their heartbeats', parameters: [query('status', 'online or offline', { enum: ['online', 'offline'] })], responses: responses(object, 400, 401) } },
    '/api/workers/{name}': { get: { summary: 'one worker, with its active and reserved tasks', parameters: [path('name')], responses: responses(object, 401, 404) } },
    '/api/workers/{name}/ping': { post: { summary: 'ping one worker', parameters: [path('name'), csrf], responses: responses(object, 401, 403) } },
    '/api/tasks': {
      get: {
        summary: 'task runs, newest first, keyset-paginated',
        parameters: [
          query('state', `comma-separated: ${TASK_RUN_STATES.join(', ')}`), query('name', 'task name'), query('worker', 'worker name'), query('queue', 'queue'),
          query('since', 'ISO 8601 time or a duration ago (1h)'), query('until', 'ISO 8601 time or a duration ago'), query('id', 'id prefix'),
          query('limit', '1 to 500, default 50', { type: 'integer' }), query('after', 'the `next` of the previous page'),
        ],
        responses: responses({ $ref: '#/components/schemas/Page' }, 400, 401),
      },
      post: {
        summary: 'send a task by name (Flower\'s async-apply)', parameters: [csrf],
        requestBody: body({ task: { type: 'string' }, args: { type: 'array' }, kwargs: { type: 'object' }, queue: { type: 'string' }, countdown: { type: 'string' }, expires: { type: 'string' } }, ['task']),
        responses: { 202: { description: 'sent (confirmed by RabbitMQ)', ...json(object) }, ...responses(object, 400, 401, 403, 404, 409) },
      },
    },
    '/api/tasks/{id}': { get: { summary: 'a run with its timeline, error stack and trace link', parameters: [path('id')], responses: responses(object, 401, 404) } },
    '/api/tasks/{id}/revoke': { post: { summary: 'revoke a task (terminate: stop it if running)', parameters: [path('id'), csrf], requestBody: body({ terminate: { type: 'boolean' } }), responses: responses(object, 400, 401, 403) } },
    '/api/queues': { get: { summary: 'depth, consumers, publish and deliver rates of each task queue', responses: responses(object, 401) } },
    '/api/schedules': { get: { summary: 'the app\'s schedule: entries in words, next runs, last dispatch and lag, beat leader', responses: responses(object, 401) } },
    '/api/monitor': { get: { summary: 'throughput by outcome, runtime percentiles and queue depth over time', parameters: [query('since', 'time or duration ago, default 1h'), query('bucket', 'duration, default 1m')], responses: responses(object, 400, 401) } },
    '/api/dead-letters': { get: { summary: 'dead letters, newest first', parameters: [query('status', DEAD_LETTER_STATUSES.join(', ')), query('task', 'task name'), query('reason', 'reason'), query('since', 'time or duration ago'), query('limit', '1 to 1000', { type: 'integer' }), query('after', 'cursor')], responses: responses({ $ref: '#/components/schemas/Page' }, 400, 401) } },
    '/api/dead-letters/{id}': { get: { summary: 'one dead letter, redacted', parameters: [path('id')], responses: responses(object, 400, 401, 404) } },
    '/api/dead-letters/{id}/requeue': { post: { summary: 'send the task again', parameters: [path('id'), csrf], requestBody: body({ force: { type: 'boolean' }, note: { type: 'string' } }), responses: responses(object, 400, 401, 403, 404, 409) } },
    '/api/dead-letters/{id}/ignore': { post: { summary: 'set aside with a note', parameters: [path('id'), csrf], requestBody: body({ note: { type: 'string' } }, ['note']), responses: responses(object, 400, 401, 403, 404) } },
    '/api/events': { get: { summary: 'Server-Sent Events: lifecycle events, coalesced every 250 ms', responses: { 200: { description: 'an event stream', content: { 'text/event-stream': {} } } } } },
  },
};

export function registerOpenApi(app: FastifyInstance): void {
  app.get('/api/openapi.json', async () => OPENAPI);
}
