import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { connect, type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { decode, type TaskEnvelope } from '@nightshift/core';
import { runId } from '@nightshift/beat-state';
import { requireServices, TcpProxy } from '@nightshift/test-helpers';
import { eventually, installation, type Installation } from './support.ts';

// The schedule routes on the real PostgreSQL, Redis and RabbitMQ: every operation, its refusals with their
// statuses and codes, and the history the recorder keeps of what they sent.

const HOUR = 3_600_000;
let site: Installation;
let connection: ChannelModel;
let channel: Channel;

before(async () => {
  site = await installation();
  connection = await connect(site.env.NIGHTSHIFT_AMQP_URL as string);
  channel = await connection.createChannel();
});
after(async () => {
  await connection?.close();
  await site?.close();
});

interface ApiError { error: { code: string; message: string; parameter?: string } }
interface Entry { name: string; source: string; task: string; version: number; paused: { by: string; at: string; note: string | null } | null; jitter: string | null; schedule: unknown; nextRuns: string[] }
const code = (response: { json: unknown }) => (response.json as ApiError).error.code;
const entry = (response: { json: unknown }) => response.json as Entry;

/** The task messages waiting in the reports queue, taken off it (waiting up to a few seconds for the first). */
async function takeMessages(atLeast = 1): Promise<TaskEnvelope[]> {
  const taken: TaskEnvelope[] = [];
  await eventually(`${atLeast} messages in the reports queue`, async () => {
    for (let message: GetMessage | false; (message = await channel.get(`${site.env.NIGHTSHIFT_PREFIX}.q.reports`, { noAck: true }));) {
      const decoded = decode(message.content);
      assert.ok(decoded.ok);
      taken.push(decoded.envelope);
    }
    return taken.length >= atLeast ? true : undefined;
  }, 5_000, 50);
  return taken;
}

test('GET /api/schedules lists the code\'s entries with beat\'s view of them, and the runtime\'s', async () => {
  const listed = await site.request('GET', '/api/schedules');
  assert.equal(listed.status, 200, listed.body);
  const body = listed.json as { timezone: string; lease: unknown; leader: unknown; lastDispatchAt: unknown; entries: Array<Entry & { queue: string; lastDispatchedAt: unknown; overdueSince: unknown; description: string }> };
  assert.equal(body.timezone, 'UTC');
  assert.ok('lease' in body && 'leader' in body && 'lastDispatchAt' in body, 'the beat leader and its lease, as before');
  const [hourly] = body.entries;
  assert.deepEqual([hourly?.name, hourly?.source, hourly?.task, hourly?.queue, hourly?.paused, hourly?.description], ['hourly-report', 'code', 'report', 'reports', null, 'every hour']);
  assert.ok(hourly && 'lastDispatchedAt' in hourly && 'overdueSince' in hourly);
});

test('create a runtime entry; a bad one is refused naming the field, and nothing is stored', async () => {
  const created = await site.request('POST', '/api/schedules', { name: 'nightly-echo', task: 'echo', schedule: '30 2 * * *', timezone: 'Europe/Berlin', args: ['night'], jitter: '30s', note: 'demo' });
  assert.equal(created.status, 201, created.body);
  assert.equal(created.headers.etag, '"1"');
  assert.equal(created.headers.location, '/api/schedules/nightly-echo');
  assert.deepEqual([entry(created).source, entry(created).version, entry(created).jitter], ['runtime', 1, '30s']);

  for (const [body, parameter] of [
    [{ name: 'bad', task: 'echo', schedule: '0 0 30 feb *' }, 'schedule'],
    [{ name: 'bad', task: 'echo', schedule: '0 9 * * *', timezone: 'Mars/Olympus' }, 'timezone'],
    [{ name: 'bad', task: 'nope', schedule: { every: '5m' } }, 'task'],
    [{ name: 'bad', task: 'echo', schedule: { every: 'often' } }, 'schedule'],
    [{ name: 'bad', task: 'echo', schedule: '0 9 * * *', colour: 'red' }, 'colour'],
    [{ name: 'bad', task: 'echo' }, 'schedule'],
    [{ name: 'bad', task: 'echo', schedule: '0 9 * * *', overlap: 'never' }, 'overlap'],
  ] as const) {
    const refused = await site.request('POST', '/api/schedules', body);
    assert.deepEqual([refused.status, (refused.json as ApiError).error.parameter], [400, parameter], `${JSON.stringify(body)}: ${refused.body}`);
  }
  for (const name of ['hourly-report', 'nightly-echo']) {
    const taken = await site.request('POST', '/api/schedules', { name, task: 'echo', schedule: '0 9 * * *' });
    assert.deepEqual([taken.status, code(taken), (taken.json as ApiError).error.parameter], [409, 'E_SCHEDULE_NAME_TAKEN', 'name'], name);
  }
  const names = ((await site.request('GET', '/api/schedules')).json as { entries: Entry[] }).entries.map((e) => e.name);
  assert.deepEqual(names, ['hourly-report', 'nightly-echo']);
});

test('PATCH changes the fields given against the version in If-Match; two changes made against one version: one conflict', async () => {
  const missing = await site.request('PATCH', '/api/schedules/nightly-echo', { schedule: '0 3 * * *' });
  assert.deepEqual([missing.status, (missing.json as ApiError).error.parameter], [400, 'if-match']);
  const [first, second] = await Promise.all([
    site.request('PATCH', '/api/schedules/nightly-echo', { schedule: '0 3 * * *' }, { 'if-match': '"1"' }),
    site.request('PATCH', '/api/schedules/nightly-echo', { jitter: null }, { 'if-match': '"1"' }),
  ]);
  assert.deepEqual([first.status, second.status].sort(), [200, 409], `${first.body} ${second.body}`);
  const [won, lost] = first.status === 200 ? [first, second] : [second, first];
  assert.equal(code(lost), 'E_SCHEDULE_CONFLICT');
  assert.match((lost.json as ApiError).error.message, /it is at version 2, the change was made against version 1/);
  assert.equal(won.headers.etag, '"2"');
  const now = await site.request('GET', '/api/schedules/nightly-echo');
  assert.equal(now.headers.etag, '"2"');
  const removedJitter = await site.request('PATCH', '/api/schedules/nightly-echo', { jitter: null, schedule: '0 3 * * *' }, { 'if-match': 'W/"2"' });
  assert.equal(removedJitter.status, 200, removedJitter.body);
  assert.deepEqual([entry(removedJitter).jitter, entry(removedJitter).schedule, entry(removedJitter).version], [null, '0 3 * * *', 3]);

  const inCode = await site.request('PATCH', '/api/schedules/hourly-report', { schedule: '0 3 * * *' }, { 'if-match': '1' });
  assert.deepEqual([inCode.status, code(inCode)], [409, 'E_SCHEDULE_IN_CODE']);
  const unknown = await site.request('PATCH', '/api/schedules/nope', { schedule: '0 3 * * *' }, { 'if-match': '1' });
  assert.deepEqual([unknown.status, code(unknown)], [404, 'E_SCHEDULE_NOT_FOUND']);
  const bad = await site.request('PATCH', '/api/schedules/nightly-echo', { schedule: '0 25 * * *' }, { 'if-match': '3' });
  assert.deepEqual([bad.status, (bad.json as ApiError).error.parameter], [400, 'schedule']);
});

test('pause with a note and resume, behind the same CSRF check as requeue', async () => {
  const auth = `Basic ${Buffer.from('alice:correct-horse').toString('base64')}`;
  const forged = await site.api.server.inject({ method: 'POST', url: '/api/schedules/hourly-report/pause', headers: { authorization: auth }, payload: { note: 'x' } });
  assert.deepEqual([forged.statusCode, (forged.json() as ApiError).error.code], [403, 'E_CSRF']);
  const paused = await site.request('POST', '/api/schedules/hourly-report/pause', { note: 'partner down' });
  assert.equal(paused.status, 200, paused.body);
  assert.deepEqual([entry(paused).paused?.by, entry(paused).paused?.note], ['alice', 'partner down']);
  const listed = ((await site.request('GET', '/api/schedules')).json as { entries: Array<Entry & { overdueSince: unknown }> }).entries[0];
  assert.deepEqual([listed?.name, listed?.paused?.note, listed?.overdueSince], ['hourly-report', 'partner down', null]);
  const resumed = await site.request('POST', '/api/schedules/hourly-report/resume');
  assert.equal(resumed.status, 200, resumed.body);
  assert.equal(entry(resumed).paused, null);
  const unknown = await site.request('POST', '/api/schedules/nope/pause', {});
  assert.deepEqual([unknown.status, code(unknown)], [404, 'E_SCHEDULE_NOT_FOUND']);
});

test('run-now sends one run with origin manual; an entry whose overlap is skip refuses another while it has not finished, unless forced', async () => {
  const sent = await site.request('POST', '/api/schedules/hourly-report/run-now');
  assert.equal(sent.status, 202, sent.body);
  const { id } = sent.json as { id: string; sent: boolean };
  const [message, ...more] = await takeMessages();
  assert.deepEqual(more, [], 'one message');
  assert.equal(message?.id, id);
  assert.deepEqual([message?.origin.type, (message?.origin as { by?: string }).by], ['manual', 'alice']);

  // Nobody consumes the reports queue: the run sent stays unfinished.
  assert.equal((await site.request('POST', '/api/schedules', { name: 'one-at-a-time', task: 'report', schedule: { every: '1h' }, overlap: 'skip' })).status, 201);
  assert.equal((await site.request('POST', '/api/schedules/one-at-a-time/run-now', {})).status, 202);
  const refused = await eventually('the second run refused', async () => {
    const again = await site.request('POST', '/api/schedules/one-at-a-time/run-now', {});
    return again.status === 409 ? again : undefined;
  }, 5_000, 100);
  assert.equal(code(refused), 'E_SCHEDULE_OVERLAP');
  const forced = await site.request('POST', '/api/schedules/one-at-a-time/run-now', { force: true });
  assert.equal(forced.status, 202, forced.body);
  await takeMessages(2);
});

test('backfill sends each past fire time once and says how many were already there; the runs route shows them', async () => {
  const hour = Math.floor(Date.now() / HOUR) * HOUR;
  const iso = (ms: number) => new Date(ms).toISOString();
  const first = await site.request('POST', '/api/schedules/hourly-report/backfill', { from: iso(hour - 3 * HOUR), to: iso(hour - 2 * HOUR) });
  assert.equal(first.status, 200, first.body);
  assert.deepEqual(first.json, { fireTimes: 2, sent: 2, alreadyThere: 0 });
  const second = await site.request('POST', '/api/schedules/hourly-report/backfill', { from: iso(hour - 4 * HOUR), to: iso(hour - HOUR) });
  assert.deepEqual(second.json, { fireTimes: 4, sent: 2, alreadyThere: 2 });
  const ids = (await takeMessages(4)).map((envelope) => envelope.id);
  assert.deepEqual(ids.sort(), [1, 2, 3, 4].map((hours) => runId('hourly-report', hour - hours * HOUR)).sort());

  const runs = await eventually('the four backfilled fires in the history', async () => {
    const response = await site.request('GET', '/api/schedules/hourly-report/runs?limit=10');
    const { fires } = response.json as { fires: Array<{ origin: string }> };
    return fires.filter((fire) => fire.origin === 'backfill').length === 4 ? response : undefined;
  }, 10_000, 100);
  const { next, fires } = runs.json as { next: string[]; fires: Array<{ fireTime: string; origin: string; state: string; runId: string; by: string }> };
  assert.ok(next.length > 0 && Date.parse(next[0] as string) > Date.now());
  assert.deepEqual(fires.filter((fire) => fire.origin === 'backfill').map((fire) => [fire.fireTime, fire.state, fire.runId, fire.by]),
    [1, 2, 3, 4].map((hours) => [iso(hour - hours * HOUR), 'sent', runId('hourly-report', hour - hours * HOUR), 'alice']), 'newest first');
  assert.ok(fires.some((fire) => fire.origin === 'manual'), 'the run now too');
  const page = await site.request('GET', `/api/schedules/hourly-report/runs?limit=1&before=${encodeURIComponent(iso(hour - HOUR))}`);
  assert.deepEqual((page.json as { fires: Array<{ fireTime: string }> }).fires.map((fire) => fire.fireTime), [iso(hour - 2 * HOUR)]);

  for (const [body, parameter] of [[{ from: 'yesterday', to: iso(hour) }, 'from'], [{ from: iso(hour) }, 'to']] as const) {
    const refused = await site.request('POST', '/api/schedules/hourly-report/backfill', body);
    assert.deepEqual([refused.status, (refused.json as ApiError).error.parameter], [400, parameter]);
  }
  assert.equal((await site.request('GET', '/api/schedules/nope/runs')).status, 404);
});

test('DELETE removes a runtime entry (at the version in If-Match, when given); an entry of the code stays', async () => {
  const stale = await site.request('DELETE', '/api/schedules/nightly-echo', undefined, { 'if-match': '"1"' });
  assert.deepEqual([stale.status, code(stale)], [409, 'E_SCHEDULE_CONFLICT']);
  const removed = await site.request('DELETE', '/api/schedules/nightly-echo', undefined, { 'if-match': '"3"' });
  assert.equal(removed.status, 200, removed.body);
  assert.deepEqual(removed.json, { name: 'nightly-echo', removed: true });
  assert.equal((await site.request('GET', '/api/schedules/nightly-echo')).status, 404);
  assert.equal((await site.request('DELETE', '/api/schedules/one-at-a-time')).status, 200, 'without If-Match: whatever version');
  const inCode = await site.request('DELETE', '/api/schedules/hourly-report');
  assert.deepEqual([inCode.status, code(inCode)], [409, 'E_SCHEDULE_IN_CODE']);
});

test('the OpenAPI document has the schedule routes, If-Match among PATCH\'s parameters', async () => {
  const doc = (await site.request('GET', '/api/openapi.json')).json as { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; required?: boolean }> }>> };
  for (const [path, methods] of Object.entries({
    '/api/schedules': ['get', 'post'], '/api/schedules/{name}': ['get', 'patch', 'delete'], '/api/schedules/{name}/pause': ['post'], '/api/schedules/{name}/resume': ['post'],
    '/api/schedules/{name}/run-now': ['post'], '/api/schedules/{name}/backfill': ['post'], '/api/schedules/{name}/runs': ['get'],
  })) {
    for (const method of methods) assert.ok(doc.paths[path]?.[method], `${method} ${path}`);
  }
  const ifMatch = doc.paths['/api/schedules/{name}']?.patch?.parameters?.find((parameter) => parameter.name === 'if-match');
  assert.deepEqual([ifMatch?.in, ifMatch?.required], ['header', true]);
});

test('PostgreSQL unreachable: GET /api/schedules still shows the code\'s entries, and says runtime entries cannot be read', async () => {
  const { databaseUrl } = await requireServices('postgres');
  const proxy = await TcpProxy.start(databaseUrl);
  const cut = await installation({ NIGHTSHIFT_DATABASE_URL: proxy.url(databaseUrl) });
  try {
    assert.equal((await cut.request('GET', '/api/schedules')).status, 200);
    await proxy.cut();
    const listed = await cut.request('GET', '/api/schedules');
    assert.equal(listed.status, 200, listed.body);
    const body = listed.json as { runtimeUnavailable?: string; entries: Entry[] };
    assert.deepEqual(body.entries.map((e) => [e.name, e.source]), [['hourly-report', 'code']]);
    assert.match(body.runtimeUnavailable ?? '', /PostgreSQL at .* is not reachable.*runtime entries and paused states cannot be read/);
    assert.doesNotMatch(listed.body, /password|:[^@/]*@127/);
    const one = await cut.request('GET', '/api/schedules/hourly-report');
    assert.equal(one.status, 503, 'one entry with its state needs PostgreSQL: it says so');
  } finally {
    await proxy.close();
    await cut.close();
  }
});
