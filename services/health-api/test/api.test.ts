import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { DeadLetters, type DeadLetterInput } from '@nightshift/store';
import { createLogger } from '@nightshift/telemetry';
import { ERROR_CLASSES } from '@nightshift/core';
import type { FastifyInstance } from 'fastify';
import { API_ERROR_CODES } from '../src/http/api-error.ts';
import { buildServer } from '../src/http/server.ts';
import { ManagementRates } from '../src/live/queue-rates.ts';
import { eventually, installation, type Installation } from './support.ts';

let site: Installation;

before(async () => {
  site = await installation({ NIGHTSHIFT_API_TOKEN: 'a-token-of-sixteen-chars' });
});
after(async () => {
  await site?.close();
});

interface ApiError { error: { code: string; message: string; parameter?: string } }

test('the API needs credentials; health stays open; a bearer token works', async () => {
  const anonymous = await site.api.server.inject({ method: 'GET', url: '/api/tasks' });
  assert.equal(anonymous.statusCode, 401);
  assert.equal((anonymous.json() as ApiError).error.code, 'E_UNAUTHORIZED');
  assert.match(String(anonymous.headers['www-authenticate']), /^Basic/);
  const wrong = await site.api.server.inject({ method: 'GET', url: '/api/tasks', headers: { authorization: `Basic ${Buffer.from('alice:wrong').toString('base64')}` } });
  assert.equal(wrong.statusCode, 401);
  const page = await site.api.server.inject({ method: 'GET', url: '/', headers: {} });
  assert.equal(page.statusCode, 401, 'the dashboard too');
  assert.equal((await site.api.server.inject({ method: 'GET', url: '/health/live' })).statusCode, 200);
  const token = await site.api.server.inject({ method: 'GET', url: '/api/workers', headers: { authorization: 'Bearer a-token-of-sixteen-chars' } });
  assert.equal(token.statusCode, 200);
});

test('a mutation with browser credentials needs the CSRF token and the same origin', async () => {
  const auth = `Basic ${Buffer.from('alice:correct-horse').toString('base64')}`;
  const missing = await site.api.server.inject({ method: 'POST', url: '/api/tasks', headers: { authorization: auth }, payload: { task: 'echo' } });
  assert.equal(missing.statusCode, 403);
  assert.equal((missing.json() as ApiError).error.code, 'E_CSRF');
  const { csrfToken } = (await site.request('GET', '/api/session')).json as { csrfToken: string };
  const foreign = await site.api.server.inject({ method: 'POST', url: '/api/tasks', headers: { authorization: auth, 'x-nightshift-csrf': csrfToken, origin: 'https://evil.example' }, payload: { task: 'echo' } });
  assert.equal(foreign.statusCode, 403);
  const ok = await site.api.server.inject({ method: 'POST', url: '/api/tasks', headers: { authorization: auth, 'x-nightshift-csrf': csrfToken }, payload: { task: 'echo', args: [1] } });
  assert.equal(ok.statusCode, 202);
  const scripted = await site.api.server.inject({ method: 'POST', url: '/api/tasks', headers: { authorization: 'Bearer a-token-of-sixteen-chars' }, payload: { task: 'echo' } });
  assert.equal(scripted.statusCode, 202, 'a token is no ambient credential: no CSRF token needed');
});

test('bad parameters are 400s naming the parameter, with stable codes', async () => {
  for (const [url, parameter] of [['/api/tasks?limit=0', 'limit'], ['/api/tasks?state=lost', 'state'], ['/api/tasks?since=yesterday', 'since'], ['/api/tasks?colour=red', 'colour'],
    ['/api/tasks?after=%3Cx%3E', 'after'], ['/api/dead-letters?status=gone', 'status'], ['/api/monitor?bucket=fast', 'bucket'], ['/api/monitor?bucket=1ms', 'bucket'],
    ['/api/workers?status=gone', 'status'], ['/api/dead-letters?limit=1001', 'limit'], ['/api/tasks?limit=2&limit=3', 'limit']] as const) {
    const response = await site.request('GET', url);
    assert.equal(response.status, 400, url);
    assert.deepEqual([(response.json as ApiError).error.code, (response.json as ApiError).error.parameter], ['E_BAD_PARAMETER', parameter], url);
  }
  assert.equal((await site.request('GET', '/api/tasks?since=&state=&after=')).status, 200, 'an empty parameter is as if absent');
  const unknown = await site.request('POST', '/api/tasks', { task: 'nope' });
  assert.equal(unknown.status, 404);
  assert.equal((unknown.json as ApiError).error.code, 'E_UNKNOWN_TASK');
  for (const [body, parameter] of [[{ task: 'echo', args: 'x' }, 'args'], [{ args: [] }, 'task'], [{ task: 'echo', kwargs: [1] }, 'kwargs'], [{ task: 'echo', countdown: 'soon' }, 'countdown'], [{ task: 'echo', colour: 'red' }, 'colour']] as const) {
    const response = await site.request('POST', '/api/tasks', body);
    assert.deepEqual([response.status, (response.json as ApiError).error.code, (response.json as ApiError).error.parameter], [400, 'E_BAD_PARAMETER', parameter], JSON.stringify(body));
  }
  const terminate = await site.request('POST', '/api/tasks/some-id/revoke', { terminate: 'yes' });
  assert.deepEqual([terminate.status, (terminate.json as ApiError).error.parameter], [400, 'terminate']);
  // Past validation without a body: the answer is the revoke's own (no task has that id yet: kept, 202), not a 400 or 415.
  const bodyless = await site.request('POST', '/api/tasks/some-id/revoke');
  assert.deepEqual([bodyless.status, (bodyless.json as { known: boolean }).known, (bodyless.json as { terminate: boolean }).terminate], [202, false, false], 'an action whose options are all optional needs no body');
  const missing = await site.request('GET', '/api/tasks/no-such-run');
  assert.deepEqual([missing.status, (missing.json as ApiError).error.code], [404, 'E_NOT_FOUND']);
  const route = await site.request('GET', '/api/nothing');
  assert.deepEqual([route.status, (route.json as ApiError).error.code], [404, 'E_NOT_FOUND']);
});

interface OpenApiDocument { openapi: string; paths: Record<string, Record<string, unknown>>; components: { schemas: { Error: { properties: { error: { properties: { code: { enum: string[] } } } } } } } }

/** The routes of a server built by `build` that its OpenAPI document lacks, as `METHOD /path`. */
async function undocumentedRoutes(build: () => FastifyInstance): Promise<{ routes: string[]; missing: string[] }> {
  const server = build();
  const routes: string[] = [];
  // The routes are added when the server loads its plugins, after this hook is in place.
  server.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push(`${method} ${route.url}`);
  });
  await server.ready();
  const doc = server.swagger() as unknown as OpenApiDocument;
  await server.close();
  const missing = routes.filter((route) => {
    const [method = '', url = ''] = route.split(' ');
    // Fastify answers HEAD for every GET; the GET documents it.
    const documented = method === 'HEAD' ? 'get' : method.toLowerCase();
    return doc.paths[url.replace(/:(\w+)/g, '{$1}')]?.[documented] === undefined;
  });
  return { routes, missing };
}

test('every route the server registers is in the OpenAPI document, served at /api/openapi.json', async () => {
  const { routes, missing } = await undocumentedRoutes(() => buildServer(site.api.room));
  assert.ok(routes.includes('GET /api/tasks/:id') && routes.includes('POST /api/dead-letters/:id/ignore') && routes.includes('GET /'), routes.join(', '));
  assert.deepEqual(missing, []);
  // The check sees a route left out of the document.
  const hidden = await undocumentedRoutes(() => {
    const server = buildServer(site.api.room);
    void server.register(async (extra) => extra.get('/api/secret', { schema: { hide: true } }, async () => ({})));
    return server;
  });
  assert.deepEqual(hidden.missing, ['GET /api/secret', 'HEAD /api/secret']);
  const served = (await site.request('GET', '/api/openapi.json')).json as OpenApiDocument;
  assert.equal(served.openapi, '3.1.0');
  assert.ok(served.paths['/api/tasks/{id}']?.get, 'the served document is the generated one');
});

test('the document lists every error code the API answers with', async () => {
  const doc = (await site.request('GET', '/api/openapi.json')).json as OpenApiDocument;
  const codes = doc.components.schemas.Error.properties.error.properties.code.enum;
  const answerable = [...API_ERROR_CODES, ...ERROR_CLASSES.filter(({ outcome }) => outcome.status !== 500).map(({ code }) => code)];
  for (const code of [...answerable, 'E_SCHEMA_NOT_READY', 'E_UNROUTABLE', 'E_UNSUPPORTED_MEDIA_TYPE', 'E_IGNORE_REFUSED', 'E_BAD_PARAMETER']) assert.ok(codes.includes(code), code);
  const notJson = await site.api.server.inject({ method: 'POST', url: '/api/tasks', headers: { authorization: 'Bearer a-token-of-sixteen-chars', 'content-type': 'application/xml' }, payload: '<task>echo</task>' });
  assert.deepEqual([notJson.statusCode, (notJson.json() as ApiError).error.code], [415, 'E_UNSUPPORTED_MEDIA_TYPE']);
});

test('helmet\'s headers are on every answer, with a policy that lets the dashboard load only its own files', async () => {
  const auth = { authorization: `Basic ${Buffer.from('alice:correct-horse').toString('base64')}` };
  for (const url of ['/', '/api/overview', '/health/live', '/api/nothing', '/assets/app.js']) {
    const response = await site.api.server.inject({ method: 'GET', url, headers: auth });
    const csp = String(response.headers['content-security-policy']);
    for (const directive of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "img-src 'self' data:", "frame-ancestors 'none'"]) assert.ok(csp.includes(directive), `${url}: ${csp}`);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|upgrade-insecure-requests/, url);
    assert.equal(response.headers['x-content-type-options'], 'nosniff', url);
    assert.equal(response.headers['x-frame-options'], 'DENY', url);
    assert.equal(response.headers['referrer-policy'], 'no-referrer', url);
  }
});

test('queues and schedules come from the app and the broker', async () => {
  const queues = await eventually('the queues to be polled', async () => {
    const body = (await site.request('GET', '/api/queues')).json as { items: { name: string; kind: string; depth: number | null }[] };
    return body.items.some((q) => q.name === 'reports') && body.items.some((q) => q.kind === 'dead-letters') ? body : undefined;
  });
  assert.deepEqual(queues.items.filter((q) => q.kind === 'work').map((q) => q.name).sort(), ['default', 'reports']);
  // Beside them, the retry ladder's steps and the dead-letters queue (NIGHTSHIFT_RETRY_LADDER is 100ms,1s here).
  const prefix = site.env.NIGHTSHIFT_PREFIX as string;
  assert.deepEqual(queues.items.filter((q) => q.kind !== 'work').map((q) => q.name), [`${prefix}.retry.100ms`, `${prefix}.retry.1s`, `${prefix}.dead-letters`]);
  const schedules = (await site.request('GET', '/api/schedules')).json as { entries: { name: string; schedule: unknown; description: string; queue: string | null; nextRuns: string[] }[] };
  assert.equal(schedules.entries[0]?.name, 'hourly-report');
  assert.deepEqual(schedules.entries[0]?.schedule, { every: '1h' }, 'as written');
  assert.equal(schedules.entries[0]?.description, 'every hour');
  assert.equal(schedules.entries[0]?.queue, 'reports', 'the task\'s own queue, where beat sends its runs');
  assert.equal(schedules.entries[0]?.nextRuns.length, 5);
});

interface QueueItem { name: string; depth: number | null; publishRate: number | null; deliverRate: number | null; rates: string }

test('queue publish rates are RabbitMQ\'s own, read from its management API', async () => {
  // Nothing consumes `reports`: what is sent stays there. RabbitMQ samples every 5 s and a rate needs two
  // samples, so the sending goes on (about 10 a second) until the rate shows.
  let sent = 0;
  const reports = await eventually('the management API\'s publish rate of reports (is the rabbitmq_management plugin enabled? `rabbitmq-plugins enable rabbitmq_management`)', async () => {
    for (let i = 0; i < 2; i += 1, sent += 1) assert.equal((await site.request('POST', '/api/tasks', { task: 'report' })).status, 202);
    const body = (await site.request('GET', '/api/queues')).json as { items: QueueItem[] };
    const queue = body.items.find((q) => q.name === 'reports');
    return queue?.rates === 'broker' && (queue.publishRate ?? 0) > 0 ? queue : undefined;
  }, 30_000);
  assert.ok((reports.publishRate ?? 0) <= sent, `${reports.publishRate}/s after ${sent} sent`);
  assert.equal(reports.deliverRate, 0, 'no worker consumes reports');
});

test('without the management API, rates are estimated and a read says so once instead of failing', async () => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const { port } = closed.address() as { port: number };
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const lines: string[] = [];
  const logger = createLogger({ service: 'rates-test', level: 'warn', destination: { write: (line: string) => lines.push(line) } });
  const rates = new ManagementRates(`http://guest:s3cret-pass@127.0.0.1:${port}`, '/', logger);
  assert.equal(await rates.read(), undefined);
  assert.equal(await rates.read(), undefined);
  assert.equal(lines.length, 1, 'one warning, not one per poll');
  assert.match(lines[0] ?? '', /estimating them/);
  assert.doesNotMatch(lines[0] ?? '', /s3cret-pass/, 'the password stays out of the log');
});

test('dead letters: list, show redacted, ignore with a note, requeue', async () => {
  const deadLetters = new DeadLetters(site.api.room.store);
  const input = (id: string): DeadLetterInput => {
    const envelope = { v: 1, id, task: 'echo', args: [{ password: 'hunter2', n: 1 }], kwargs: {}, attempt: 1, maxAttempts: 1, queue: 'default', sentAt: new Date().toISOString(), origin: { type: 'producer', producer: 't' } };
    return {
      messageId: id, deathMark: 'd', task: 'echo', queue: 'default', args: envelope.args, kwargs: {}, reason: 'failed', lastFailedAt: new Date().toISOString(),
      error: { name: 'Error', message: 'no' }, headers: {}, properties: {}, body: Buffer.from(JSON.stringify(envelope)),
    };
  };
  const first = await deadLetters.record(input('dl-1'));
  const second = await deadLetters.record(input('dl-2'));
  const list = (await site.request('GET', '/api/dead-letters?status=pending')).json as { items: { id: string }[] };
  assert.deepEqual(list.items.map((d) => d.id).sort(), [first.id, second.id].sort());
  const shown = (await site.request('GET', `/api/dead-letters/${first.id}`)).json as { args: unknown[]; body?: unknown };
  assert.deepEqual(shown.args, [{ password: '***', n: 1 }]);
  assert.equal(shown.body, undefined);
  const noNote = await site.request('POST', `/api/dead-letters/${first.id}/ignore`, {});
  assert.deepEqual([noNote.status, (noNote.json as ApiError).error.parameter], [400, 'note']);
  const blank = await site.request('POST', `/api/dead-letters/${first.id}/ignore`, { note: '  ' });
  assert.deepEqual([blank.status, (blank.json as ApiError).error.parameter], [400, 'note']);
  assert.equal((await site.request('POST', `/api/dead-letters/${first.id}/ignore`, { note: 'customer deleted' })).status, 200);
  assert.equal((await deadLetters.get(first.id)).statusNote, 'customer deleted');
  // Ignoring it again without force would replace alice's review: refused, as the store refuses it (was a 500).
  const twice = await site.request('POST', `/api/dead-letters/${first.id}/ignore`, { note: 'again' });
  assert.deepEqual([twice.status, (twice.json as ApiError).error.code], [409, 'E_IGNORE_REFUSED']);
  assert.equal((await deadLetters.get(first.id)).statusNote, 'customer deleted');
  assert.equal((await site.request('POST', `/api/dead-letters/${first.id}/ignore`, { note: 'again', force: true })).status, 200);
  assert.equal((await deadLetters.get(first.id)).statusNote, 'again');
  const requeued = await site.request('POST', `/api/dead-letters/${second.id}/requeue`, {});
  assert.equal(requeued.status, 200);
  assert.match((requeued.json as { replayId: string }).replayId, /^[0-9a-f-]{36}$/);
  const again = await site.request('POST', `/api/dead-letters/${second.id}/requeue`, {});
  assert.deepEqual([again.status, (again.json as ApiError).error.code], [409, 'E_REQUEUE_REFUSED']);
  const missing = await site.request('GET', '/api/dead-letters/999999');
  assert.deepEqual([missing.status, (missing.json as ApiError).error.code], [404, 'E_DEAD_LETTER_NOT_FOUND']);
});

test('/runbook serves the README\'s runbook without a login, one anchored entry per alert of deploy/prometheus/alerts.yml', async () => {
  const response = await site.api.server.inject({ method: 'GET', url: '/runbook' });
  assert.equal(response.statusCode, 200);
  assert.match(String(response.headers['content-type']), /^text\/html/);
  const alerts = [...readFileSync(new URL('../../../deploy/prometheus/alerts.yml', import.meta.url), 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1] ?? '');
  assert.ok(alerts.length >= 10, `${alerts.length} alerts`);
  for (const alert of alerts) assert.match(response.body, new RegExp(`<h2 id="${alert.toLowerCase()}">${alert}</h2><p>`), alert);
  assert.doesNotMatch(response.body, /<script/, 'a page of text');
  assert.equal((await site.api.server.inject({ method: 'GET', url: '/assets/style.css' })).statusCode, 200, 'styled without a login');
  assert.equal((await site.api.server.inject({ method: 'GET', url: '/assets/app.js' })).statusCode, 401, 'the dashboard itself still needs one');
});
