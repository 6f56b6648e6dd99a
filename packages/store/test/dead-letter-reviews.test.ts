import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BadParameterError, decode } from '@nightshift/core';
import { QueueActions, type ReplayMessage } from '@nightshift/store';
import { deadLetterInput, testStore } from './support.ts';

let ctx: Awaited<ReturnType<typeof testStore>>;
before(async () => { ctx = await testStore(); });
after(async () => { await ctx.cleanup(); });

test('every review is kept in the audit trail: args edited before a requeue (before and after), requeued, ignored', async () => {
  const { id } = await ctx.deadLetters.record(deadLetterInput());
  const sent: ReplayMessage[] = [];
  const [outcome] = await ctx.deadLetters.requeue({ ids: [id] }, {
    publish: async (replay) => { sent.push(replay); }, by: 'ana', note: 'fixed the month', edit: { args: ['usage', { month: '2026-11' }] },
  });
  const replay = decode((sent[0] as ReplayMessage).body);
  assert.ok(replay.ok);
  assert.deepEqual(replay.envelope.args, ['usage', { month: '2026-11' }], 'the replay runs with the edited args');
  assert.deepEqual((await ctx.deadLetters.get(id)).args, ['usage', { password: 'hunter2' }], 'the dead letter keeps what died');
  const { id: other } = await ctx.deadLetters.record(deadLetterInput());
  await ctx.deadLetters.ignore([other], { by: 'bo', note: 'duplicate' });
  const trail = await ctx.deadLetters.reviews(id);
  assert.deepEqual(trail.map((r) => [r.action, r.by, r.note]), [['edited', 'ana', 'fixed the month'], ['requeued', 'ana', 'fixed the month']]);
  assert.deepEqual(trail[0]?.detail, { before: { args: ['usage', { password: 'hunter2' }], kwargs: {} }, after: { args: ['usage', { month: '2026-11' }], kwargs: {} } });
  assert.deepEqual(trail[1]?.detail, { replayId: outcome?.replayId });
  assert.deepEqual((await ctx.deadLetters.reviews(other)).map((r) => [r.action, r.by, r.note]), [['ignored', 'bo', 'duplicate']]);
});

test('editing args is refused for several dead letters at once, naming args; nothing is sent', async () => {
  const a = await ctx.deadLetters.record(deadLetterInput());
  const b = await ctx.deadLetters.record(deadLetterInput());
  let published = 0;
  await assert.rejects(
    ctx.deadLetters.requeue({ ids: [a.id, b.id] }, { publish: async () => { published += 1; }, edit: { args: [] } }),
    (error: unknown) => error instanceof BadParameterError && error.parameter === 'args',
  );
  assert.equal(published, 0);
  assert.equal((await ctx.deadLetters.get(a.id)).status, 'pending');
});

test('bulk by filter: count and requeue by task, error class and time range, paced, with progress', async () => {
  const local = await testStore();
  try {
    const old = '2026-01-01T00:00:00.000Z';
    const recent = new Date().toISOString();
    const timeout = (task: string, at: string) => deadLetterInput({ envelope: { task }, task, lastFailedAt: at });
    for (let i = 0; i < 4; i += 1) await local.deadLetters.record(timeout('reports.generate', recent));
    await local.deadLetters.record(timeout('reports.generate', old));
    await local.deadLetters.record(timeout('mail.send', recent));
    await local.deadLetters.record({ ...timeout('reports.generate', recent), error: { name: 'TypeError', message: 'x' } });
    const filter = { task: 'reports.generate', errorClass: 'TimeoutError', since: new Date(Date.parse(recent) - 60_000), status: 'pending' as const };
    assert.equal(await local.deadLetters.count(filter), 4);
    assert.equal(await local.deadLetters.count({ ...filter, since: undefined, until: new Date('2026-06-01T00:00:00Z') }), 1);
    const progress: string[] = [];
    const outcomes = await local.deadLetters.requeue(filter, { publish: async () => {}, perSecond: 20, onProgress: (done, total) => progress.push(`${done}/${total}`) });
    assert.equal(outcomes.length, 4);
    assert.deepEqual(progress, ['1/4', '2/4', '3/4', '4/4']);
    assert.equal(await local.deadLetters.count(filter), 0);
    assert.equal(await local.deadLetters.count({ status: 'pending' }), 3, 'the others are untouched');
  } finally {
    await local.cleanup();
  }
});

test('a stopped bulk requeue leaves the rest pending', async () => {
  const local = await testStore();
  try {
    for (let i = 0; i < 3; i += 1) await local.deadLetters.record(deadLetterInput());
    const stop = new AbortController();
    const outcomes = await local.deadLetters.requeue({}, { publish: async () => { stop.abort(); }, signal: stop.signal });
    assert.equal(outcomes.length, 1);
    assert.equal(await local.deadLetters.count({ status: 'pending' }), 2);
  } finally {
    await local.cleanup();
  }
});

test('queue actions are kept newest first', async () => {
  const actions = new QueueActions(ctx.store);
  await actions.record('p.q.default', 'purged', 'ana', { messages: 12 });
  await actions.record('p.retry.1s', 'promoted', 'bo', { taskId: 't-1' });
  await actions.record('p.q.default', 'purged', 'bo', { messages: 0 });
  assert.deepEqual((await actions.list('p.q.default')).map((a) => [a.action, a.by, a.detail.messages]), [['purged', 'bo', 0], ['purged', 'ana', 12]]);
});
