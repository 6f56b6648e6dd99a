import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { buildEnvelope, EventPublisher, sendEnvelope } from '@nightshift/broker';
import { echo } from './fixtures/app.ts';
import { eventually, installation, type Installation } from './support.ts';

let site: Installation;

before(async () => {
  site = await installation();
  await site.worker();
});
after(async () => {
  await site?.close();
});

interface Run { id: string; state: string; args: unknown[] | null; timeline: { type: string; at: string }[]; errorClass: string | null; errorStack: string | null; traceId: string | null }

test('a run goes received → started → succeeded, and a late duplicate event changes nothing', async () => {
  const sent = await site.request('POST', '/api/tasks', { task: 'nap', args: [400] });
  assert.equal(sent.status, 202);
  const { id } = sent.json as { id: string };
  const seen: string[] = [];
  const done = await eventually('the run to succeed', async () => {
    const response = await site.request('GET', `/api/tasks/${id}`);
    if (response.status !== 200) return undefined;
    const run = response.json as Run;
    if (seen.at(-1) !== run.state) seen.push(run.state);
    return run.state === 'succeeded' ? run : undefined;
  });
  assert.ok(seen.includes('started'), `states seen: ${seen.join(' → ')}`);
  const order = ['sent', 'received', 'started', 'succeeded'];
  assert.deepEqual(seen, [...seen].sort((a, b) => order.indexOf(a) - order.indexOf(b)), 'never backwards');
  assert.deepEqual(done.timeline.map((e) => e.type), ['sent', 'received', 'started', 'succeeded']);
  assert.deepEqual(done.args, [400]);
  // Without a started tracer (tests) the send span has no trace id, and none is recorded.
  assert.ok(done.traceId === null || /^[0-9a-f]{32}$/.test(done.traceId));

  // The same `started` event again, and a `received` event, both late: the broker delivers them to the recorder.
  const recordedBefore = site.api.room.recorder.recorded;
  const publisher = new EventPublisher(site.api.room.broker);
  await publisher.ready();
  const started = done.timeline.find((e) => e.type === 'started');
  publisher.publish('task.started', { id, task: 'nap', queue: 'default', attempt: 1, worker: 'late-worker', sentAt: done.timeline[0]?.at, at: started?.at });
  publisher.publish('task.received', { id, task: 'nap', queue: 'default', attempt: 1, worker: 'late-worker', sentAt: done.timeline[0]?.at });
  await publisher.close();
  await eventually('the late events to be recorded', () => (site.api.room.recorder.recorded >= recordedBefore + 2 ? true : undefined));
  const afterwards = (await site.request('GET', `/api/tasks/${id}`)).json as Run & { worker: string; updatedAt: string };
  assert.equal(afterwards.state, 'succeeded');
  assert.notEqual(afterwards.worker, 'late-worker');
  assert.equal(afterwards.timeline.filter((e) => e.type === 'started').length, 1, 'the duplicate started is not on the timeline twice');
});

test('a duplicate of a finished attempt, acked without running, is on the run\'s timeline; the run stays succeeded', async () => {
  const publisher = new EventPublisher(site.api.room.broker);
  await publisher.ready();
  const envelope = buildEnvelope(undefined, echo, ['once'], {}, 'test');
  await sendEnvelope(site.api.room.broker, envelope, publisher);
  const done = await eventually('the run to succeed', async () => {
    const response = await site.request('GET', `/api/tasks/${envelope.id}`);
    return response.status === 200 && (response.json as Run).state === 'succeeded' ? response.json as Run : undefined;
  });
  // The same message again, as a publisher whose confirm was lost sends it: the worker finds the attempt's record.
  await sendEnvelope(site.api.room.broker, envelope, publisher);
  await publisher.close();
  const run = await eventually('the duplicate on the timeline', async () => {
    const body = (await site.request('GET', `/api/tasks/${envelope.id}`)).json as Omit<Run, 'timeline'> & { timeline: { type: string; at: string; detail: Record<string, unknown> }[] };
    return body.timeline.some((e) => e.type === 'duplicate-suppressed') ? body : undefined;
  });
  assert.deepEqual(run.timeline.map((e) => e.type), ['sent', 'received', 'started', 'succeeded', 'received', 'duplicate-suppressed']);
  assert.deepEqual({ ...run.timeline.at(-1)?.detail, finishedAt: undefined, finishedBy: undefined }, { reason: 'completed', outcome: 'succeeded', redelivered: false, deliveryCount: 0, finishedAt: undefined, finishedBy: undefined });
  const { timeline: _t1, ...before } = done;
  const { timeline: _t2, ...afterwards } = run;
  assert.deepEqual(afterwards, before, 'the run is where its attempt put it');
});

test('a failed run keeps its traceback; args are redacted by the alerter\'s rules', async () => {
  const sent = await site.request('POST', '/api/tasks', { task: 'broken', args: [{ card: '4242', password: 'hunter2' }] });
  const { id } = sent.json as { id: string };
  const run = await eventually('the run to be dead-lettered', async () => {
    const response = await site.request('GET', `/api/tasks/${id}`);
    const body = response.json as Run;
    return response.status === 200 && body.state === 'dead-lettered' ? body : undefined;
  });
  assert.equal(run.errorClass, 'PermanentError');
  assert.match(run.errorStack ?? '', /card declined/);
  assert.deepEqual(run.args, [{ card: '4242', password: '***' }]);
  const list = (await site.request('GET', '/api/tasks?state=dead-lettered&name=broken')).json as { items: Run[] };
  assert.deepEqual(list.items.map((r) => r.id), [id]);
});

test('two replicas share the history queue: every event is recorded once', async () => {
  const replica = await site.replica();
  const before = site.api.room.recorder.recorded;
  const ids: string[] = [];
  for (let i = 0; i < 40; i += 1) ids.push((((await site.request('POST', '/api/tasks', { task: 'echo', args: [i] })).json) as { id: string }).id);
  await eventually('every run to succeed', async () => {
    const { rows } = await site.api.room.store.query<{ n: string }>(`SELECT count(*) AS n FROM ${site.api.room.store.table('task_runs')} WHERE id = ANY($1) AND state = 'succeeded'`, [ids]);
    return Number(rows[0]?.n) === ids.length ? true : undefined;
  });
  // A run's events reach the recorders in any order: wait until the two have committed as many as were sent.
  const recorded = () => site.api.room.recorder.recorded - before + replica.room.recorder.recorded;
  await eventually('the recorders to commit every event', () => recorded() >= ids.length * 4);
  const byFirst = site.api.room.recorder.recorded - before;
  const bySecond = replica.room.recorder.recorded;
  assert.equal(byFirst + bySecond, ids.length * 4, `sent, received, started, succeeded of ${ids.length} runs, split ${byFirst} + ${bySecond}`);
  const { rows } = await site.api.room.store.query<{ n: string }>(`SELECT count(*) AS n FROM ${site.api.room.store.table('task_events')} WHERE run_id = ANY($1)`, [ids]);
  assert.equal(Number(rows[0]?.n), ids.length * 4);
});

test('the history survives a restart of the health-api', async () => {
  const list = (await site.request('GET', '/api/tasks?limit=5')).json as { items: Run[]; next?: string };
  assert.equal(list.items.length, 5);
  const replica = await site.replica();
  const response = await replica.server.inject({ method: 'GET', url: `/api/tasks/${list.items[0]?.id}`, headers: { authorization: `Basic ${Buffer.from('alice:correct-horse').toString('base64')}` } });
  assert.equal(response.statusCode, 200);
});

interface JournalRun extends Omit<Run, 'timeline'> {
  progress: { fraction: number; message: string | null; attempt: number; at: string } | null;
  timeline: { type: string; at: string; attempt: number; detail: { lines?: { level: string; msg: string; fields?: Record<string, unknown> }[]; dropped?: number } }[];
}

test('a running task\'s progress is on its run while it runs; what it logged is on its timeline, before its outcome, secrets masked', async () => {
  const sent = await site.request('POST', '/api/tasks', { task: 'import-rows', args: [10_000, 8, 300] });
  const { id } = sent.json as { id: string };
  const running = await eventually('a progress report while it runs', async () => {
    const run = (await site.request('GET', `/api/tasks/${id}`)).json as JournalRun;
    return run.state === 'started' && run.progress !== null && run.progress.fraction < 1 ? run : undefined;
  });
  assert.match(running.progress?.message ?? '', /^rows [\d,]+ of 10,000$/);
  assert.equal(running.progress?.attempt, 1);
  const done = await eventually('the run to succeed', async () => {
    const run = (await site.request('GET', `/api/tasks/${id}`)).json as JournalRun;
    return run.state === 'succeeded' ? run : undefined;
  });
  assert.ok((done.progress?.fraction ?? 0) >= (running.progress?.fraction ?? 1), 'the kept report never goes back');
  assert.deepEqual(done.timeline.map((e) => e.type), ['sent', 'received', 'started', 'logged', 'succeeded']);
  const logged = done.timeline.find((e) => e.type === 'logged');
  assert.deepEqual(logged?.detail.lines?.map((l) => [l.level, l.msg]), [['info', 'importing 10000 rows'], ['warn', '0 rows skipped']]);
  assert.deepEqual(logged?.detail.lines?.[0]?.fields, { source: 'postgres://importer:***@db:5432/crm' });
  assert.doesNotMatch(JSON.stringify(done), /s3cret-pw/);
});
