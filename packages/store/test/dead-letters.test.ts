import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { decode } from '@nightshift/core';
import { DeadLetterNotFoundError, IgnoreRefusedError, RequeueRefusedError, type ReplayMessage } from '@nightshift/store';
import { deadLetterInput, testStore } from './support.ts';

let ctx: Awaited<ReturnType<typeof testStore>>;
before(async () => { ctx = await testStore(); });
after(async () => { await ctx.cleanup(); });

test('a dead letter delivered twice is one row; the same task dying again after a replay is a new one', async () => {
  const input = deadLetterInput();
  const first = await ctx.deadLetters.record(input);
  const again = await ctx.deadLetters.record({ ...input, headers: { ...input.headers, 'x-delivery-count': 1 } });
  assert.equal(first.created, true);
  assert.deepEqual(again, { id: first.id, created: false });

  const stored = await ctx.deadLetters.get(first.id);
  assert.equal(stored.task, 'reports.generate');
  assert.equal(stored.status, 'pending');
  assert.equal(stored.errorClass, 'TimeoutError');
  assert.equal(stored.errorCode, 'ETIMEDOUT');
  assert.deepEqual(stored.args, ['usage', { password: 'hunter2' }], 'the store keeps the real args: a replay needs them');
  assert.equal(stored.traceId, '0af7651916cd43dd8448eb211c80319c');
  assert.deepEqual(stored.body, input.body);

  const replayed = deadLetterInput({ envelope: { origin: { type: 'replay', deadLetterId: first.id, originalId: input.messageId } }, replayOf: first.id });
  const second = await ctx.deadLetters.record(replayed);
  assert.equal(second.created, true);
  assert.notEqual(second.id, first.id);
  assert.equal((await ctx.deadLetters.get(second.id)).replayOf, first.id);
});

test('one dead letter per failed task: a duplicate of the same attempt is never a second pending row, whatever its time or reason', async () => {
  const local = await testStore();
  try {
    const envelope = { id: `task-dup-${Date.now()}`, attempt: 3 };
    const first = await local.deadLetters.record(deadLetterInput({ envelope }));
    const deaths = [
      // The worker re-ran attempt 3 after a lost connection and dead-lettered it again, a moment later.
      { deathMark: '2026-01-01T00:00:01.000Z', lastFailedAt: '2026-01-01T00:00:01.000Z' },
      // The broker dead-lettered the same message itself (its delivery limit), with its own x-death.
      { reason: 'delivery_limit', deathMark: 'x-death:q:delivery_limit:1:', lastFailedAt: '2026-01-01T00:00:02.000Z', headers: { 'x-delivery-count': 4 } },
    ];
    // Several alerters storing duplicates at once still make one row.
    const outcomes = await Promise.all(deaths.flatMap((death) => [1, 2].map(() => local.deadLetters.record(deadLetterInput({ envelope, ...death })))));
    assert.deepEqual(outcomes, outcomes.map(() => ({ id: first.id, created: false })));
    assert.equal(await local.deadLetters.pendingCount(), 1);

    // Once requeued, a late duplicate still finds the row: nothing pending to requeue a second time.
    const sent: ReplayMessage[] = [];
    await local.deadLetters.requeue({ ids: [first.id] }, { publish: async (replay) => { sent.push(replay); } });
    const late = await local.deadLetters.record(deadLetterInput({ envelope, deathMark: 'late', lastFailedAt: new Date().toISOString() }));
    assert.deepEqual(late, { id: first.id, created: false });
    assert.equal(await local.deadLetters.pendingCount(), 0);
    assert.equal((await local.deadLetters.get(first.id)).status, 'requeued');

    // The replay runs as a fresh task (new id, attempt 1): if it dies too, that is a new dead letter.
    const replay = decode((sent[0] as ReplayMessage).body);
    assert.ok(replay.ok);
    assert.notEqual(replay.envelope.id, envelope.id);
    const again = await local.deadLetters.record(deadLetterInput({ envelope: { ...replay.envelope, attempt: 3 }, replayOf: first.id }));
    assert.equal(again.created, true);
    assert.equal(await local.deadLetters.pendingCount(), 1);

    // Another attempt of the same task id is another death (e.g. attempt 2 refused by the broker, not a retry of 3).
    const other = await local.deadLetters.record(deadLetterInput({ envelope: { ...envelope, attempt: 2 } }));
    assert.equal(other.created, true);
    // A body that is not a task message is told apart by its death mark, as before.
    const malformed = deadLetterInput({ reason: 'malformed', body: Buffer.from('not json'), messageId: 'raw-1', deathMark: 'm1' });
    assert.equal((await local.deadLetters.record(malformed)).created, true);
    assert.equal((await local.deadLetters.record(malformed)).created, false);
    assert.equal((await local.deadLetters.record({ ...malformed, deathMark: 'm2' })).created, true);
  } finally {
    await local.cleanup();
  }
});

test('strings jsonb refuses (NUL) and buffers in headers are stored', async () => {
  const outcome = await ctx.deadLetters.record(deadLetterInput({ args: ['a\u0000b'], headers: { raw: Buffer.from('bytes'), when: new Date(0) } }));
  const stored = await ctx.deadLetters.get(outcome.id);
  assert.deepEqual(stored.args, ['ab']);
  assert.deepEqual(stored.headers, { raw: 'bytes', when: '1970-01-01T00:00:00.000Z' });
});

test('list filters by status, task and time and pages with a cursor', async () => {
  const local = await testStore();
  try {
    const base = Date.parse('2026-01-01T00:00:00Z');
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const at = new Date(base + i * 60_000).toISOString();
      ids.push((await local.deadLetters.record(deadLetterInput({ lastFailedAt: at, deathMark: at, task: i % 2 === 0 ? 'even' : 'odd' }))).id);
    }
    const first = await local.deadLetters.list({ limit: 3 });
    assert.deepEqual(first.items.map((d) => d.id), [ids[6], ids[5], ids[4]], 'newest first');
    assert.ok(first.next);
    const second = await local.deadLetters.list({ limit: 3, after: first.next });
    assert.deepEqual(second.items.map((d) => d.id), [ids[3], ids[2], ids[1]]);
    const last = await local.deadLetters.list({ limit: 3, after: second.next });
    assert.deepEqual(last.items.map((d) => d.id), [ids[0]]);
    assert.equal(last.next, undefined);

    assert.deepEqual((await local.deadLetters.list({ task: 'odd' })).items.map((d) => d.id), [ids[5], ids[3], ids[1]]);
    assert.deepEqual((await local.deadLetters.list({ since: new Date(base + 5 * 60_000) })).items.map((d) => d.id), [ids[6], ids[5]]);
    await local.deadLetters.ignore([ids[0] as string], { by: 'ana', note: 'known outage' });
    assert.deepEqual((await local.deadLetters.list({ status: 'ignored' })).items.map((d) => d.id), [ids[0]]);
    assert.equal((await local.deadLetters.list({ status: 'pending' })).items.length, 6);
    assert.equal(await local.deadLetters.pendingCount(), 6);
    const ignored = await local.deadLetters.get(ids[0] as string);
    assert.deepEqual([ignored.status, ignored.statusBy, ignored.statusNote], ['ignored', 'ana', 'known outage']);
    await assert.rejects(local.deadLetters.ignore([ids[1] as string, '999999']), DeadLetterNotFoundError);
    assert.equal((await local.deadLetters.get(ids[1] as string)).status, 'pending', 'nothing changes when one id is unknown');

    // Ignoring again would replace ana's review: refused, with hers named, unless forced.
    await assert.rejects(local.deadLetters.ignore([ids[1] as string, ids[0] as string], { by: 'ben' }), (error: unknown) => {
      assert.ok(error instanceof IgnoreRefusedError);
      assert.deepEqual(error.ignored.map((d) => [d.id, d.by, d.at, d.note]), [[ids[0], 'ana', ignored.statusAt, 'known outage']]);
      return true;
    });
    assert.equal((await local.deadLetters.get(ids[1] as string)).status, 'pending', 'nothing changes when one is refused');
    const forced = await local.deadLetters.ignore([ids[0] as string], { by: 'ben', note: 'duplicate' }, { force: true });
    assert.deepEqual(forced, [{ id: ids[0], replaced: { id: ids[0], by: 'ana', at: ignored.statusAt, note: 'known outage' } }]);
    assert.equal((await local.deadLetters.get(ids[0] as string)).statusBy, 'ben');
  } finally {
    await local.cleanup();
  }
});

test('requeue sends a fresh replay and marks the row; twice is refused unless forced', async () => {
  const input = deadLetterInput();
  const { id } = await ctx.deadLetters.record(input);
  const sent: ReplayMessage[] = [];
  const publish = async (replay: ReplayMessage) => { sent.push(replay); };
  const [outcome] = await ctx.deadLetters.requeue({ ids: [id] }, { publish, by: 'ana', note: 'fixed the report service' });
  assert.equal(sent.length, 1);
  const replay = sent[0] as ReplayMessage;
  const decoded = decode(replay.body);
  assert.ok(decoded.ok);
  assert.equal(decoded.envelope.attempt, 1);
  assert.notEqual(decoded.envelope.id, input.messageId);
  assert.deepEqual(decoded.envelope.origin, { type: 'replay', deadLetterId: id, originalId: input.messageId });
  assert.deepEqual(decoded.envelope.args, input.args);
  assert.equal(replay.queue, 'reports');
  assert.equal(replay.traceHeaders.traceparent, input.headers.traceparent);
  assert.equal(outcome?.replayId, decoded.envelope.id);
  const row = await ctx.deadLetters.get(id);
  assert.deepEqual([row.status, row.statusBy, row.requeueCount, row.replayId], ['requeued', 'ana', 1, decoded.envelope.id]);

  await assert.rejects(ctx.deadLetters.requeue({ ids: [id] }, { publish }), (error: Error) => error instanceof RequeueRefusedError && /already requeued.*--force/.test(error.message));
  assert.equal(sent.length, 1, 'nothing sent when refused');
  await ctx.deadLetters.requeue({ ids: [id] }, { publish, force: true });
  assert.equal(sent.length, 2);
  assert.equal((await ctx.deadLetters.get(id)).requeueCount, 2);
});

test('a failed publish leaves the row pending; a malformed body cannot be requeued', async () => {
  const { id } = await ctx.deadLetters.record(deadLetterInput());
  await assert.rejects(ctx.deadLetters.requeue({ ids: [id] }, { publish: async () => { throw new Error('broker down'); } }), /broker down/);
  assert.equal((await ctx.deadLetters.get(id)).status, 'pending');
  const malformed = await ctx.deadLetters.record(deadLetterInput({ reason: 'malformed', body: Buffer.from('not json') }));
  await assert.rejects(ctx.deadLetters.requeue({ ids: [malformed.id] }, { publish: async () => {} }), /is not a task message.*ignore it instead/);
  await assert.rejects(ctx.deadLetters.requeue({ ids: ['424242'] }, { publish: async () => {} }), DeadLetterNotFoundError);
});

test('requeue by task takes the pending ones, oldest first', async () => {
  const local = await testStore();
  try {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await local.deadLetters.record(deadLetterInput({ task: 'bulk', lastFailedAt: new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString() }))).id);
    await local.deadLetters.record(deadLetterInput({ task: 'other' }));
    const sent: string[] = [];
    const outcomes = await local.deadLetters.requeue({ task: 'bulk' }, { publish: async (r) => { sent.push(r.deadLetterId); } });
    assert.deepEqual(sent, ids);
    assert.equal(outcomes.length, 3);
    assert.deepEqual(await local.deadLetters.requeue({ task: 'bulk' }, { publish: async () => {} }), [], 'none pending any more');
  } finally {
    await local.cleanup();
  }
});
