import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { eventually } from '@nightshift/test-helpers';
import {
  migrate, quoteIdent, scheduleChannel, ScheduleConflictError, ScheduleNameTakenError, ScheduleNotFoundError, ScheduleRecords, Store, TaskRuns,
  type FireInput, type TaskEventInput,
} from '@nightshift/store';
import { testStore } from './support.ts';

let ctx: Awaited<ReturnType<typeof testStore>>;
let records: ScheduleRecords;
before(async () => {
  ctx = await testStore();
  records = new ScheduleRecords(ctx.store);
});
after(async () => { await ctx.cleanup(); });

const definition = (schedule: string) => ({ name: 'ignored-here', task: 'reports.generate', schedule, args: ['daily'] });

test('a runtime entry is created at version 1, each change adds one, and a change against an old version is refused', async () => {
  const created = await records.insert('nightly', definition('0 2 * * *'), 'for the finance team', 'ana');
  assert.equal(created.version, 1);
  assert.deepEqual([created.createdBy, created.updatedBy, created.note], ['ana', 'ana', 'for the finance team']);
  assert.deepEqual(created.definition, definition('0 2 * * *'));

  const changed = await records.update('nightly', definition('0 3 * * *'), null, 'bo', 1);
  assert.equal(changed.version, 2);
  assert.deepEqual([changed.createdBy, changed.updatedBy, changed.note], ['ana', 'bo', null]);
  assert.ok(Date.parse(changed.updatedAt) >= Date.parse(created.updatedAt));

  await assert.rejects(records.update('nightly', definition('0 4 * * *'), null, 'cy', 1), (error: unknown) =>
    error instanceof ScheduleConflictError && error.entry === 'nightly' && error.expectedVersion === 1 && error.currentVersion === 2);
  assert.deepEqual((await records.getRuntime('nightly'))?.definition, definition('0 3 * * *'), 'the refused change wrote nothing');
  await assert.rejects(records.update('no-such', definition('0 4 * * *'), null, 'cy', 1), ScheduleNotFoundError);
  assert.deepEqual((await records.listRuntime()).map((row) => row.name), ['nightly']);
});

test('a dispatcher\'s reads (a page, a few by name) give the definition, version and update time the full row has, to the millisecond', async () => {
  await records.insert('paged-a', definition('0 5 * * *'), 'a note', 'ana');
  await records.insert('paged-b', definition('0 6 * * *'), null, 'ana');
  await records.update('paged-b', definition('0 7 * * *'), null, 'bo', 1);
  await ctx.store.query(`UPDATE ${ctx.store.table('schedules')} SET updated_at = '2027-03-01 08:09:10.123999+00' WHERE name = 'paged-a'`);
  const full = await Promise.all(['paged-a', 'paged-b'].map(async (name) => records.getRuntime(name)));
  const expected = full.map((row) => ({ name: row?.name, definition: row?.definition, version: row?.version, updatedAt: row?.updatedAt }));
  assert.equal(expected[0]?.updatedAt, '2027-03-01T08:09:10.123Z');
  const page = (await records.listRuntimePage('paged-', 10)).filter((row) => row.name.startsWith('paged-'));
  assert.deepEqual(page, expected);
  assert.deepEqual(await records.getRuntimeMany(['paged-b', 'paged-a', 'no-such']), expected);
});

test('a taken name is refused and the entry that has it is unchanged', async () => {
  await records.insert('hourly', definition('0 * * * *'), null, 'ana');
  await assert.rejects(records.insert('hourly', definition('*/5 * * * *'), 'mine now', 'bo'), (error: unknown) =>
    error instanceof ScheduleNameTakenError && error.entry === 'hourly' && error.takenBy === 'runtime');
  const row = await records.getRuntime('hourly');
  assert.deepEqual([row?.definition, row?.createdBy, row?.version], [definition('0 * * * *'), 'ana', 1]);
});

test('two updates made against the same version at once: exactly one wins, the other gets a conflict', async () => {
  await records.insert('race', definition('0 1 * * *'), null, 'ana');
  const outcomes = await Promise.allSettled([
    records.update('race', definition('0 5 * * *'), 'five', 'bo', 1),
    records.update('race', definition('0 6 * * *'), 'six', 'cy', 1),
  ]);
  const won = outcomes.filter((o) => o.status === 'fulfilled');
  const lost = outcomes.filter((o) => o.status === 'rejected');
  assert.equal(won.length, 1);
  assert.equal(lost.length, 1);
  assert.ok(lost[0]?.status === 'rejected' && lost[0].reason instanceof ScheduleConflictError && lost[0].reason.currentVersion === 2);
  const stored = await records.getRuntime('race');
  assert.equal(stored?.version, 2);
  assert.equal(stored?.note, won[0]?.status === 'fulfilled' ? won[0].value.note : undefined, 'the stored entry is the winner\'s');
});

test('delete checks the version when given, and takes the entry\'s state with it', async () => {
  await records.insert('doomed', definition('0 1 * * *'), null, 'ana');
  await records.setPaused('doomed', true, 'about to go', 'ana');
  await assert.rejects(records.delete('doomed', 7, 'bo'), (error: unknown) => error instanceof ScheduleConflictError && error.currentVersion === 1);
  assert.ok(await records.getRuntime('doomed'), 'a refused delete deletes nothing');
  const removed = await records.delete('doomed', 1, 'bo');
  assert.equal(removed.name, 'doomed');
  assert.equal(await records.getRuntime('doomed'), undefined);
  assert.equal(await records.stateOf('doomed'), undefined, 'a new entry of that name will not start paused');
  await assert.rejects(records.delete('doomed', undefined, 'bo'), ScheduleNotFoundError);
});

test('pause and resume record who, when and why, for code entries too (by name)', async () => {
  const paused = await records.setPaused('code-entry', true, 'partner API is down', 'ana');
  assert.deepEqual([paused.paused, paused.pausedBy, paused.pausedNote, paused.version], [true, 'ana', 'partner API is down', 1]);
  assert.ok(paused.pausedAt !== null && Math.abs(Date.parse(paused.pausedAt) - Date.now()) < 60_000);
  const resumed = await records.setPaused('code-entry', false, null, 'bo');
  assert.deepEqual([resumed.paused, resumed.resumedBy, resumed.pausedBy, resumed.pausedNote, resumed.version], [false, 'bo', 'ana', 'partner API is down', 2]);
  assert.ok(resumed.resumedAt !== null);
  const states = await records.states();
  assert.equal(states.get('code-entry')?.paused, false);
  assert.equal(states.get('never-touched'), undefined);
});

test('changes made at once share one statement per kind, and each has its own answer: a conflict or a missing entry is that change\'s only', async () => {
  const names = Array.from({ length: 20 }, (_, i) => `batched-${String(i).padStart(2, '0')}`);
  const statements: string[] = [];
  const query = ctx.store.query.bind(ctx.store);
  ctx.store.query = ((text: string, values?: readonly unknown[]) => {
    statements.push(text);
    return query(text, values);
  }) as typeof ctx.store.query;
  try {
    const created = await Promise.all(names.map(async (name) => records.insert(name, definition('0 1 * * *'), null, 'ana')));
    assert.deepEqual(created.map((row) => [row.name, row.version]), names.map((name) => [name, 1]));
    const inserts = statements.filter((text) => /INSERT INTO \S+"schedules"/.test(text));
    assert.equal(inserts.length, 1, 'twenty creates made at once: one statement');

    statements.length = 0;
    const outcomes = await Promise.allSettled([
      ...names.slice(1).map(async (name) => records.update(name, definition('0 2 * * *'), 'moved', 'bo', 1)),
      records.update(names[0] as string, definition('0 2 * * *'), null, 'bo', 5),
      records.update('batched-none', definition('0 2 * * *'), null, 'bo', 1),
    ]);
    assert.equal(statements.filter((text) => /UPDATE \S+"schedules"/.test(text)).length, 1, 'the updates made at once: one statement');
    assert.deepEqual(outcomes.slice(0, -2).map((o) => (o.status === 'fulfilled' ? [o.value.version, o.value.note] : o.reason)), names.slice(1).map(() => [2, 'moved']));
    assert.ok(outcomes.at(-2)?.status === 'rejected' && (outcomes.at(-2) as PromiseRejectedResult).reason instanceof ScheduleConflictError);
    assert.ok(outcomes.at(-1)?.status === 'rejected' && (outcomes.at(-1) as PromiseRejectedResult).reason instanceof ScheduleNotFoundError);
    assert.equal((await records.getRuntime(names[0] as string))?.version, 1, 'the refused update wrote nothing');

    const paused = await Promise.all([records.setRuntimePaused(names[1] as string, true, 'why', 'cy'), records.setRuntimePaused('batched-none', true, null, 'cy')]);
    assert.deepEqual([paused[0]?.row.version, paused[0]?.state?.paused, paused[0]?.state?.pausedNote], [2, true, 'why']);
    assert.equal(paused[1], undefined, 'no runtime entry: nothing paused');
    assert.equal(await records.stateOf('batched-none'), undefined);
    const resumed = await records.setRuntimePaused(names[1] as string, false, null, 'di');
    assert.deepEqual([resumed?.state?.paused, resumed?.state?.resumedBy, resumed?.state?.pausedBy], [false, 'di', 'cy']);

    statements.length = 0;
    await Promise.all(names.map(async (name) => records.delete(name, undefined, 'ana')));
    assert.equal(statements.filter((text) => /DELETE FROM \S+"schedules"/.test(text)).length, 1, 'the removals made at once: one statement');
    assert.equal(await records.stateOf(names[1] as string), undefined, 'the state went with its entry');
  } finally {
    ctx.store.query = query;
  }
});

test('a statement that defers its announcement (nightshift.schedule_notify) commits without one; any other write is announced by the trigger, each change through ScheduleRecords once', async () => {
  const channel = scheduleChannel(ctx.store.schema);
  const heard: string[] = [];
  const client = ctx.store.dedicatedClient();
  await client.connect();
  client.on('notification', (message) => { if (message.channel === channel) heard.push(message.payload ?? ''); });
  try {
    await client.query(`LISTEN ${quoteIdent(channel)}`);
    const states = ctx.store.table('schedule_states');
    await ctx.store.query(`INSERT INTO ${states} (name, paused) SELECT 'deferred-by-hand', true FROM (SELECT set_config('nightshift.schedule_notify', 'deferred', true)) d`);
    await ctx.store.query(`INSERT INTO ${states} (name, paused) VALUES ('by-hand', true)`);
    await records.insert('announced', definition('0 1 * * *'), null, 'ana');
    await records.update('announced', definition('0 2 * * *'), null, 'ana', 1);
    await records.setRuntimePaused('announced', true, null, 'ana');
    await records.setPaused('announced', false, null, 'ana');
    await records.delete('announced', undefined, 'ana');
    await eventually('the last change heard', () => heard.filter((name) => name === 'announced').length === 5, 5_000);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(heard, ['by-hand', 'announced', 'announced', 'announced', 'announced', 'announced']);
  } finally {
    await client.end();
  }
});

test('a change made after the announcing connection was lost is announced all the same, on a new one', async () => {
  const channel = scheduleChannel(ctx.store.schema);
  const heard: { name: string; pid: number }[] = [];
  const client = ctx.store.dedicatedClient();
  await client.connect();
  client.on('notification', (message) => { if (message.channel === channel) heard.push({ name: message.payload ?? '', pid: message.processId }); });
  try {
    await client.query(`LISTEN ${quoteIdent(channel)}`);
    await records.setPaused('reannounced', true, null, 'ana');
    const first = await eventually('the first announcement', () => heard.find((h) => h.name === 'reannounced'), 5_000);
    await ctx.store.query('SELECT pg_terminate_backend($1)', [first.pid]);
    await records.setPaused('reannounced-after', true, null, 'ana');
    const second = await eventually('the change after the loss', () => heard.find((h) => h.name === 'reannounced-after'), 5_000);
    assert.notEqual(second.pid, first.pid);
  } finally {
    await client.end();
  }
});

const base = Date.parse('2030-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(base + ms).toISOString();

test('recording fires is idempotent: a redelivered batch adds nothing', async () => {
  const fires: FireInput[] = [
    { entry: 'idem', fireTime: iso(0), origin: 'schedule', state: 'sent', runId: `beat:idem:${iso(0)}`, sentAt: iso(12), latenessMs: 12, detail: { replica: 'b1' } },
    { entry: 'idem', fireTime: iso(1_000), origin: 'schedule', state: 'paused', count: 3, throughTime: iso(3_000) },
  ];
  assert.equal(await records.recordFires(fires), 2);
  assert.equal(await records.recordFires(fires), 0);
  assert.equal(await records.recordFires([...fires].reverse()), 0);
  const listed = await records.fires('idem');
  assert.deepEqual(listed.map((f) => [f.fireTime, f.state, f.count]), [[iso(1_000), 'paused', 3], [iso(0), 'sent', 1]]);
  assert.equal(listed[0]?.throughTime, iso(3_000));
  assert.deepEqual(listed[1]?.detail, { replica: 'b1' });
  assert.equal(listed[1]?.latenessMs, 12);
});

const runEvent = (id: string, state: TaskEventInput['state'], ms: number, origin: Record<string, unknown>, extra: Partial<TaskEventInput> = {}): TaskEventInput => ({
  runId: id, state, at: iso(ms), name: 'reports.generate', attempt: 1, sentAt: iso(ms), origin, ...extra,
});

test('fires come with their run\'s outcome; runs only the task history knows are listed as sent; pages go back in time', async () => {
  const entry = 'joined';
  const runs = new TaskRuns(ctx.store);
  const ok = `beat:${entry}:${iso(0)}`;
  const failed = `beat:${entry}:${iso(60_000)}`;
  const unrecorded = `beat:${entry}:${iso(120_000)}`;
  await records.recordFires([
    { entry, fireTime: iso(0), origin: 'schedule', state: 'sent', runId: ok, sentAt: iso(5) },
    { entry, fireTime: iso(60_000), origin: 'backfill', state: 'sent', runId: failed, sentAt: iso(90_000), by: 'ana' },
    { entry, fireTime: iso(180_000), origin: 'schedule', state: 'overlap' },
  ]);
  await runs.record([
    runEvent(ok, 'sent', 5, { type: 'beat', beat: entry, scheduledFor: iso(0) }),
    runEvent(ok, 'succeeded', 2_005, { type: 'beat', beat: entry, scheduledFor: iso(0) }, { runtimeMs: 1_900, sentAt: iso(5) }),
    runEvent(failed, 'dead-lettered', 95_000, { type: 'backfill', beat: entry, scheduledFor: iso(60_000), by: 'ana' }, { sentAt: iso(90_000) }),
    runEvent(unrecorded, 'started', 120_010, { type: 'beat', beat: entry, scheduledFor: iso(120_000) }, { sentAt: iso(120_003) }),
    runEvent('someone-else', 'succeeded', 1, { type: 'beat', beat: 'other', scheduledFor: iso(0) }),
  ]);

  const fires = await records.fires(entry);
  assert.deepEqual(fires.map((f) => [f.fireTime, f.origin, f.state, f.run?.state ?? null]), [
    [iso(180_000), 'schedule', 'overlap', null],
    [iso(120_000), 'schedule', 'sent', 'started'],
    [iso(60_000), 'backfill', 'sent', 'dead-lettered'],
    [iso(0), 'schedule', 'sent', 'succeeded'],
  ]);
  assert.equal(fires[3]?.run?.runtimeMs, 1_900);
  assert.equal(fires[3]?.run?.finishedAt, iso(2_005));
  assert.equal(fires[2]?.by, 'ana');
  assert.equal(fires[1]?.recordedAt, null, 'known from the task history only');
  assert.equal(fires[1]?.runId, unrecorded);

  const firstPage = await records.fires(entry, { limit: 2 });
  assert.deepEqual(firstPage.map((f) => f.fireTime), [iso(180_000), iso(120_000)]);
  const secondPage = await records.fires(entry, { limit: 2, before: firstPage.at(-1)?.fireTime });
  assert.deepEqual(secondPage.map((f) => f.fireTime), [iso(60_000), iso(0)]);
});

test('a hand-made run whose origin names no valid fire time is listed at its sent time, not an error', async () => {
  await new TaskRuns(ctx.store).record([runEvent('odd', 'sent', 7_000, { type: 'beat', beat: 'odd', scheduledFor: '2030-02-30T99:00:00Z' })]);
  assert.deepEqual((await records.fires('odd')).map((f) => [f.fireTime, f.runId]), [[iso(7_000), 'odd']]);
});

test('sentAlready finds fire times recorded as sent or whose run the task history has, and nothing else', async () => {
  const entry = 'already';
  const candidate = (ms: number) => ({ fireTime: iso(ms), runId: `beat:${entry}:${iso(ms)}` });
  await records.recordFires([
    { entry, fireTime: iso(0), origin: 'schedule', state: 'sent', runId: candidate(0).runId },
    { entry, fireTime: iso(1_000), origin: 'schedule', state: 'paused' },
    { entry: 'another', fireTime: iso(3_000), origin: 'schedule', state: 'sent' },
  ]);
  await new TaskRuns(ctx.store).record([runEvent(candidate(2_000).runId, 'sent', 2_000, { type: 'beat', beat: entry, scheduledFor: iso(2_000) })]);
  const sent = await records.sentAlready(entry, [0, 1_000, 2_000, 3_000].map(candidate));
  assert.deepEqual([...sent].sort(), [iso(0), iso(2_000)]);
  assert.deepEqual(await records.sentAlready(entry, []), new Set());
});

test('the last run of an entry is the newest the task history has, whoever sent it, and is found through an index', async () => {
  const entry = 'last';
  const runs = new TaskRuns(ctx.store);
  assert.equal(await records.lastRunOf(entry), undefined);
  await runs.record([
    runEvent('l1', 'succeeded', 1_000, { type: 'beat', beat: entry, scheduledFor: iso(0) }, { sentAt: iso(900) }),
    runEvent('l2', 'started', 2_000, { type: 'manual', beat: entry, by: 'ana', scheduledFor: iso(1_990) }, { sentAt: iso(1_990) }),
    runEvent('l0', 'succeeded', 3_000, { type: 'producer', producer: 'x' }, { sentAt: iso(2_500) }),
  ]);
  assert.deepEqual(await records.lastRunOf(entry), { id: 'l2', state: 'started', sentAt: iso(1_990), finishedAt: null });

  const plan = await ctx.store.transaction(async (client) => {
    await client.query('SET LOCAL enable_seqscan = off');
    const { rows } = await client.query<{ 'QUERY PLAN': string }>(
      `EXPLAIN SELECT id FROM ${ctx.store.table('task_runs')} WHERE origin->>'beat' = $1 ORDER BY sent_at DESC, id DESC LIMIT 1`, [entry]);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  });
  assert.match(plan, /task_runs_beat_sent_idx/);
});

test('fires recorded before the retention\'s cut are pruned', async () => {
  await records.recordFires([{ entry: 'old', fireTime: iso(0), origin: 'schedule', state: 'misfire' }, { entry: 'old', fireTime: iso(1_000), origin: 'schedule', state: 'misfire' }]);
  await ctx.store.query(`UPDATE ${ctx.store.table('schedule_fires')} SET recorded_at = now() - interval '40 days' WHERE entry = 'old' AND fire_time = $1`, [iso(0)]);
  assert.equal(await records.pruneFires(new Date(Date.now() - 30 * 86_400_000), 1), 1);
  assert.deepEqual((await records.fires('old')).map((f) => f.fireTime), [iso(1_000)]);
});

/** Collects what `listen` reports, until stopped. */
function listener(target: ScheduleRecords, options: Parameters<ScheduleRecords['listen']>[2] = {}) {
  const heard: { name: string; at: number }[] = [];
  const stop = new AbortController();
  const done = target.listen((name) => heard.push({ name, at: Date.now() }), stop.signal, { checkEveryMs: 60_000, ...options });
  return { heard, close: async () => { stop.abort(); await done; } };
}

const heardAfter = (heard: readonly { name: string; at: number }[], name: string, since: number) => heard.find((h) => h.name === name && h.at >= since);

test('listen hears every change of an entry or a state within a second, and reloads everything after its connection is killed', async () => {
  const other = await testStore();
  const listening = listener(records);
  try {
    await eventually('the first LISTEN', () => heardAfter(listening.heard, '*', 0));
    let since = Date.now();
    await records.insert('heard', definition('0 1 * * *'), null, 'ana');
    const inserted = await eventually('the insert', () => heardAfter(listening.heard, 'heard', since), 5_000);
    assert.ok(inserted.at - since < 1_000, `heard after ${inserted.at - since} ms`);
    since = Date.now();
    await records.setPaused('heard', true, 'quiet', 'ana');
    await eventually('the pause', () => heardAfter(listening.heard, 'heard', since), 5_000);
    since = Date.now();
    await records.delete('heard', undefined, 'ana');
    await eventually('the delete', () => heardAfter(listening.heard, 'heard', since), 5_000);

    await new ScheduleRecords(other.store).insert('heard-elsewhere', definition('0 1 * * *'), null, 'ana');

    const channel = scheduleChannel(ctx.store.schema);
    const killed = await ctx.store.query<{ killed: boolean }>(
      `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity WHERE query = $1`, [`LISTEN ${quoteIdent(channel)}`]);
    assert.deepEqual(killed.rows.map((row) => row.killed), [true], 'one listening connection, killed');
    since = Date.now();
    await eventually('the reload after the reconnect', () => heardAfter(listening.heard, '*', since), 10_000);
    since = Date.now();
    await records.setPaused('after-reconnect', true, null, 'ana');
    await eventually('a change after the reconnect', () => heardAfter(listening.heard, 'after-reconnect', since), 5_000);
    assert.equal(listening.heard.find((h) => h.name === 'heard-elsewhere'), undefined, 'another schema\'s changes are not heard');
  } finally {
    await listening.close();
    await other.cleanup();
  }
});

test('a schema whose channel name would pass 63 bytes gets the md5 form, and the trigger agrees', async () => {
  const schema = `schedules_long_${'x'.repeat(40)}_${Math.random().toString(36).slice(2, 8)}`;
  assert.ok(schema.length <= 63);
  const channel = scheduleChannel(schema);
  assert.match(channel, /^nightshift_schedules\.[0-9a-f]{32}$/);
  assert.equal(scheduleChannel('short'), 'nightshift_schedules.short');
  const store = new Store({ url: ctx.store.url, schema });
  const listening = listener(new ScheduleRecords(store));
  try {
    await migrate(store);
    await eventually('the first LISTEN', () => heardAfter(listening.heard, '*', 0));
    await new ScheduleRecords(store).setPaused('long', true, null, 'ana');
    await eventually('the pause', () => heardAfter(listening.heard, 'long', 0), 5_000);
  } finally {
    await listening.close();
    await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`).catch(() => {});
    await store.close();
  }
});

test('listen stops when told, also while PostgreSQL is unreachable, and says why it waits', async () => {
  const unreachable = new Store({ url: 'postgres://nightshift:secret-pw@127.0.0.1:1/none', schema: 'nowhere', connectTimeoutMs: 500 });
  const problems: (Error | undefined)[] = [];
  const listening = listener(new ScheduleRecords(unreachable), { onConnection: (problem) => problems.push(problem) });
  try {
    await eventually('a connection problem', () => problems.length > 0, 10_000);
    assert.match(problems[0]?.message ?? '', /not reachable/);
    assert.doesNotMatch(problems[0]?.message ?? '', /secret-pw/);
    assert.equal(listening.heard.length, 0);
  } finally {
    await listening.close();
    await unreachable.close();
  }
});

test('the fingerprint stays while nothing changes and changes with every insert, update, pause, resume and removal; the same rows give the same one', async () => {
  const seen = [await records.fingerprint()];
  assert.equal(await records.fingerprint(), seen[0], 'read twice without a change: the same');
  const step = async (what: string, change: () => Promise<unknown>) => {
    await change();
    const now = await records.fingerprint();
    assert.notEqual(now, seen.at(-1), `${what} changes the fingerprint`);
    seen.push(now);
    assert.equal(await records.fingerprint(), now, `after ${what}, read again: the same`);
  };
  await step('an insert', () => records.insert('fingerprinted', definition('0 5 * * *'), null, 'ana'));
  await step('an update', () => records.update('fingerprinted', definition('0 6 * * *'), null, 'ana', 1));
  await step('a pause', () => records.setPaused('fingerprinted', true, 'why', 'ana'));
  await step('a resume', () => records.setPaused('fingerprinted', false, null, 'ana'));
  assert.equal(new Set(seen).size, seen.length, 'each change gave a fingerprint not seen before');
  await step('a removal', () => records.delete('fingerprinted', undefined, 'ana'));
  assert.equal(seen.at(-1), seen[0], 'the entry and its state removed: the rows, and the fingerprint, are those before it');
});

test('revisionsOf says, in one statement, what each name\'s runtime row and state are now: what beat compares with what it loaded', async () => {
  const created = await records.insert('fenced', definition('*/5 * * * *'), null, 'ana');
  await records.setPaused('code-only', true, null, 'ana');
  let revisions = await records.revisionsOf(['fenced', 'code-only', 'nothing-here']);
  assert.deepEqual(revisions.get('fenced'), { version: 1, updatedAt: created.updatedAt, paused: false, resumedAt: null });
  assert.deepEqual(revisions.get('code-only'), { version: undefined, updatedAt: undefined, paused: true, resumedAt: null });
  assert.deepEqual(revisions.get('nothing-here'), { version: undefined, updatedAt: undefined, paused: false, resumedAt: null });

  const changed = await records.update('fenced', definition('*/10 * * * *'), null, 'bo', 1);
  const resumed = await records.setPaused('code-only', false, null, 'bo');
  revisions = await records.revisionsOf(['fenced', 'code-only']);
  assert.deepEqual(revisions.get('fenced'), { version: 2, updatedAt: changed.updatedAt, paused: false, resumedAt: null });
  assert.deepEqual(revisions.get('code-only'), { version: undefined, updatedAt: undefined, paused: false, resumedAt: resumed.resumedAt });
  await records.delete('fenced', undefined, 'cy');
  assert.equal((await records.revisionsOf(['fenced'])).get('fenced')?.version, undefined, 'a removed entry has no runtime row');
});

test('the change mark moves with every change committed to an entry or a state, by any writer, and with nothing else', async () => {
  const mark = () => records.changeMark();
  const moves = async (what: string, change: () => Promise<unknown>) => {
    const before = await mark();
    await change();
    assert.notEqual(await mark(), before, `${what} moves the mark`);
  };
  await moves('a creation', () => records.insert('marked', definition('0 6 * * *'), null, 'ana'));
  await moves('an update', () => records.update('marked', definition('0 7 * * *'), null, 'bo', 1));
  await moves('a pause', () => records.setPaused('marked', true, 'why', 'ana'));
  await moves('a resume', () => records.setPaused('marked', false, null, 'ana'));
  await moves('a removal', () => records.delete('marked', undefined, 'ana'));
  const schema = quoteIdent(ctx.store.schema);
  // By hand, in a replicating session (no ordinary trigger fires there: beat is not told of the change by notification).
  const client = await ctx.store.pool.connect();
  try {
    await client.query('SET session_replication_role = replica');
    await moves('a pause written by hand while replicating', () => client.query(`INSERT INTO ${schema}.schedule_states (name, paused) VALUES ('written-while-replicating', true)`));
    const before = await mark();
    await client.query('BEGIN');
    await client.query(`UPDATE ${schema}.schedule_states SET paused = false WHERE name = 'written-while-replicating'`);
    assert.equal(await mark(), before, 'a change not yet committed does not show');
    await client.query('ROLLBACK');
    assert.equal(await mark(), before, 'nor one rolled back');
  } finally {
    client.release(true);
  }
  const before = await mark();
  await records.revisionsOf(['marked', 'written-while-replicating']);
  await records.listRuntime();
  assert.equal(await mark(), before, 'reading moves nothing');
  const { revisions, mark: read } = await records.revisionsMarked(['written-while-replicating']);
  assert.equal(read, before, 'read with the rows: the mark of their moment');
  assert.equal(revisions.get('written-while-replicating')?.paused, true);
});
