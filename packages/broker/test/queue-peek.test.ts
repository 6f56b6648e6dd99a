import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { defineTask } from '@nightshift/core';
import { buildEnvelope, park, peekQueue, prefixQueues, promoteDelayed } from '@nightshift/broker';
import { drain, testBroker } from './support.ts';

let ctx: Awaited<ReturnType<typeof testBroker>>;
// A ladder whose step holds a message for the whole test.
before(async () => { ctx = await testBroker({ NIGHTSHIFT_RETRY_LADDER: '1h' }); });
after(async () => { await ctx.cleanup(); });

const report = defineTask({ name: 'report', queue: 'peek-reports', run: () => 'done' });

test('a ladder step is peeked again and again without losing or reordering anything; promote takes out only the one asked for, without its eta', async () => {
  const step = prefixQueues(ctx.broker, ['peek-reports']).find((q) => q.kind === 'retry');
  assert.ok(step);
  const envelopes = [1, 2, 3].map((n) => buildEnvelope(undefined, report, [n], { countdown: '2h' }, 'test'));
  for (const envelope of envelopes) await park(ctx.broker, envelope);
  for (let i = 0; i < 8; i += 1) {
    const seen = await peekQueue(ctx.broker, step, 10);
    assert.deepEqual(seen.map((m) => [m.position, m.id, m.args?.[0]]), envelopes.map((e, n) => [n + 1, e.id, n + 1]), `peek ${i + 1}`);
    assert.equal(seen[0]?.dueAt, envelopes[0]?.eta);
  }
  assert.deepEqual(await peekQueue(ctx.broker, step, 2).then((m) => m.length), 2, 'at most the limit');
  const promoted = await promoteDelayed(ctx.broker, step, envelopes[1]?.id ?? '');
  assert.deepEqual(promoted, { id: envelopes[1]?.id, task: 'report', queue: 'peek-reports' });
  assert.deepEqual((await peekQueue(ctx.broker, step, 10)).map((m) => m.id), [envelopes[0]?.id, envelopes[2]?.id]);
  const [sent, ...more] = await drain(ctx.raw, ctx.broker.names.queue('peek-reports'));
  assert.equal(more.length, 0);
  const body = JSON.parse(sent?.content.toString() ?? '{}') as { id: string; eta?: string; args: unknown[] };
  assert.deepEqual([body.id, body.eta, body.args], [envelopes[1]?.id, undefined, [2]], 'sent to its queue without its eta: a worker runs it now');
  assert.equal(await promoteDelayed(ctx.broker, step, 'no-such-task'), undefined);
  assert.equal((await peekQueue(ctx.broker, step, 10)).length, 2, 'a promote that found nothing put everything back');
});

test('a work queue is never peeked: each return would count towards its delivery limit', async () => {
  const work = prefixQueues(ctx.broker, ['peek-reports']).find((q) => q.kind === 'work');
  assert.ok(work);
  await assert.rejects(peekQueue(ctx.broker, work, 10), /delivery limit/);
});
