import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  AlertOutbox, ScheduleFacts, ScheduleHealthRecords, ScheduleRecords, TaskRuns,
  type AlertRouting, type IncidentState, type ScheduleJudgement, type TaskEventInput,
} from '@nightshift/store';
import { deadLetterInput, testStore } from './support.ts';

let ctx: Awaited<ReturnType<typeof testStore>>;
let facts: ScheduleFacts;
let health: ScheduleHealthRecords;
before(async () => {
  ctx = await testStore();
  facts = new ScheduleFacts(ctx.store);
  health = new ScheduleHealthRecords(ctx.store);
});
after(async () => { await ctx.cleanup(); });

const BASE = Date.parse('2031-03-01T00:00:00Z');
const iso = (ms: number) => new Date(BASE + ms).toISOString();
const run = (entry: string, n: number, state: TaskEventInput['state'], extra: Partial<TaskEventInput> = {}): TaskEventInput => ({
  runId: `${entry}-${n}`, state, at: iso(n * 60_000 + 1_000), name: 'reports.generate', attempt: 1, sentAt: iso(n * 60_000),
  origin: { type: 'beat', beat: entry, scheduledFor: iso(n * 60_000) }, ...extra,
});

test('facts: an entry\'s newest runs (since a time), its success with the latest fire time, and the fires not sent', async () => {
  const runs = new TaskRuns(ctx.store);
  await runs.record([
    run('a', 1, 'succeeded'),
    run('a', 2, 'dead-lettered', { error: { name: 'TimeoutError', message: 'partner API' } }),
    run('a', 3, 'dead-lettered', { error: { name: 'TimeoutError', message: 'partner API again' } }),
    run('a', 4, 'started'),
    // A backfill of an older fire time that succeeded last: the latest fire time is still run 1's.
    { ...run('a', 5, 'succeeded'), origin: { type: 'backfill', beat: 'a', scheduledFor: iso(-600_000), by: 'ana' } },
    run('b', 1, 'succeeded'),
  ]);
  const recent = await facts.recentRuns([{ entry: 'a', since: null }, { entry: 'b', since: iso(90_000) }, { entry: 'none', since: null }], 3);
  assert.deepEqual(recent.get('a')?.map((r) => [r.id, r.state]), [['a-5', 'succeeded'], ['a-4', 'started'], ['a-3', 'dead-lettered']]);
  assert.equal(recent.get('a')?.[2]?.errorMessage, 'partner API again');
  assert.equal(recent.get('a')?.[0]?.fireTime, iso(-600_000));
  assert.deepEqual(recent.get('b'), [], 'b\'s run was sent before its since');
  assert.deepEqual(recent.get('none'), []);

  const successes = await facts.lastSuccesses(['a', 'b', 'none']);
  assert.deepEqual(successes.get('a'), { fireTime: iso(60_000), finishedAt: iso(61_000) });
  assert.equal(successes.has('none'), false);

  const records = new ScheduleRecords(ctx.store);
  await records.recordFires([
    { entry: 'a', fireTime: iso(0), origin: 'schedule', state: 'misfire', count: 3, throughTime: iso(120_000) },
    { entry: 'a', fireTime: iso(300_000), origin: 'schedule', state: 'overlap' },
    { entry: 'a', fireTime: iso(360_000), origin: 'schedule', state: 'sent', runId: 'a-6' },
  ]);
  const since = await facts.notSentSince([{ entry: 'a', since: iso(60_000) }, { entry: 'b', since: null }]);
  assert.deepEqual(since.get('a')?.counts, { misfire: 3, overlap: 1 }, 'a row of several counts when its fire times reach past since');
  assert.equal(since.has('b'), false);
  const later = await facts.notSentSince([{ entry: 'a', since: iso(200_000) }]);
  assert.deepEqual(later.get('a')?.counts, { overlap: 1 });

  const all = await facts.notSentAfter([{ entry: 'a', seq: '0' }]);
  const told = all.get('a');
  assert.ok(told);
  assert.deepEqual([told.counts, told.from, told.through], [{ misfire: 3, overlap: 1 }, iso(0), iso(300_000)]);
  assert.equal((await facts.notSentAfter([{ entry: 'a', seq: told.seq }])).has('a'), false, 'nothing after the highest seq');
  assert.ok(BigInt(await facts.lastFireSeq()) > BigInt(told.seq), 'the sent fire came later');
});

const judgement = (entry: string, status: ScheduleJudgement['status'], source: ScheduleJudgement['source'] = 'code'): ScheduleJudgement => ({
  entry, source, status, cause: status === 'overdue' ? 'no beat leader' : null, dueBy: iso(0), lastSuccessAt: null, lastSuccessFire: null, consecutiveFailures: 0,
});

test('judgements are saved each round; an entry no longer listed loses its row, and an alerter without the app touches runtime rows only', async () => {
  await health.saveJudgements([judgement('code-1', 'healthy'), judgement('rt-1', 'overdue', 'runtime')], 'all');
  const saved = await health.judgements();
  assert.deepEqual([...saved.keys()], ['code-1', 'rt-1']);
  assert.equal(saved.get('rt-1')?.cause, 'no beat leader');
  assert.ok(saved.get('rt-1')?.judgedAt);
  await health.saveJudgements([judgement('rt-2', 'healthy', 'runtime')], 'runtime');
  assert.deepEqual([...(await health.judgements()).keys()], ['code-1', 'rt-2'], 'the code entry stays; the runtime entry not listed goes');
  await health.saveJudgements([], 'all');
  assert.equal((await health.judgements()).size, 0);
});

const quiet: IncidentState = {
  phase: 'quiet', openedStatus: null, openedAt: null, openedLastSuccessAt: null, recoveredAt: null, flapSince: null, flapChanges: 0,
  flapLastChangeAt: null, flapBad: null, missedSeq: '0', missedPagedAt: null, pauseToldFor: null,
};

test('incidents: watched from the first look (again when the definition changes); a transition against an old version writes nothing', async () => {
  const first = await health.watch([{ entry: 'nightly', source: 'code', definitionHash: 'h1' }], '42', 'all');
  const row = first.get('nightly');
  assert.ok(row);
  assert.deepEqual([row.phase, row.missedSeq, row.version], ['quiet', '42', 1]);
  const again = (await health.watch([{ entry: 'nightly', source: 'code', definitionHash: 'h1' }], '99', 'all')).get('nightly');
  assert.deepEqual([again?.watchedSince, again?.missedSeq, again?.version], [row.watchedSince, '42', 1], 'an unchanged entry is left as it was');
  await new Promise((resolve) => setTimeout(resolve, 5));
  const changed = (await health.watch([{ entry: 'nightly', source: 'code', definitionHash: 'h2' }], '99', 'all')).get('nightly');
  assert.ok(changed && changed.watchedSince > row.watchedSince && changed.version === 2, 'a new definition is watched afresh');

  const outbox = new AlertOutbox(ctx.store);
  const opened = { ...quiet, phase: 'incident' as const, openedStatus: 'overdue', openedAt: iso(0) };
  const alert = { kind: 'schedule', event: 'overdue', entry: 'nightly' };
  assert.equal(await health.transition('nightly', 2, opened, { alerts: [alert], channels: ['slack', 'log'], groupKey: 'schedule:nightly' }), true);
  assert.equal(await health.transition('nightly', 2, opened, { alerts: [alert], channels: ['slack', 'log'], groupKey: 'schedule:nightly' }), false, 'the second alerter loses');
  const entries = await outbox.claim(10, 1_000);
  assert.deepEqual(entries.map((e) => [e.channel, e.kind, e.groupKey, e.alert]), [['slack', 'schedule', 'schedule:nightly', alert], ['log', 'schedule', 'schedule:nightly', alert]]);
  const now = (await health.watch([{ entry: 'nightly', source: 'code', definitionHash: 'h2' }], '99', 'all')).get('nightly');
  assert.deepEqual([now?.phase, now?.openedStatus, now?.openedAt, now?.version], ['incident', 'overdue', iso(0), 3]);
  await health.watch([], '99', 'runtime');
  assert.ok((await health.watch([{ entry: 'nightly', source: 'code', definitionHash: 'h2' }], '99', 'all')).has('nightly'), 'runtime scope keeps code rows');
});

test('a held dead letter is counted only in its group opened before it died; without one it is stored without an alert', async () => {
  const groupKey = 'schedule:held';
  const routing = (diedAt: string): AlertRouting => ({
    groupKey, task: 'reports.generate', errorClass: 'TimeoutError', windowMs: 60_000, channels: ['slack'], hold: { diedAt },
    page: () => { throw new Error('a held dead letter never pages'); },
  });
  const first = deadLetterInput();
  assert.equal((await ctx.deadLetters.record(first, routing(new Date().toISOString()))).alert, 'held');
  await health.watch([{ entry: 'held', source: 'runtime', definitionHash: 'h' }], '0', 'runtime');
  const row = (await health.watch([{ entry: 'held', source: 'runtime', definitionHash: 'h' }], '0', 'runtime')).get('held');
  await health.transition('held', row?.version ?? 0, { ...quiet, phase: 'incident', openedStatus: 'failing' }, {
    alerts: [], channels: ['slack'], groupKey,
    openGroup: { task: 'reports.generate', errorClass: 'TimeoutError', windowMs: 60_000, message: 'partner API', runIds: [first.messageId as string] },
  });
  const before = new Date(Date.now() - 60_000).toISOString();
  assert.equal((await ctx.deadLetters.record(deadLetterInput(), routing(before))).alert, 'held', 'died before the page: part of the streak it told');
  assert.equal((await ctx.deadLetters.record(deadLetterInput(), routing(new Date(Date.now() + 1_000).toISOString()))).alert, 'grouped');
  const { rows } = await ctx.store.query<{ unsent: number; total: number; first_dead_letter_id: string }>(`SELECT unsent, total, first_dead_letter_id FROM ${ctx.store.table('alert_groups')} WHERE group_key = $1`, [groupKey]);
  assert.deepEqual(rows.map((r) => [r.unsent, r.total]), [[1, 2]], 'the streak\'s dead letter counted in the total, the later one unsent');
});
