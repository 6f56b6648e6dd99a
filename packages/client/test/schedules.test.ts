// The schedule operations of @nightshift/client on the real PostgreSQL, Redis and RabbitMQ, one installation per file.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { beatKeys, runId } from '@nightshift/beat-state';
import {
  BadParameterError, CodeEntryReadOnlyError, ConfigError, ScheduleConflictError, ScheduleNameTakenError, ScheduleNotFoundError,
  PERSON_CLAIM_TTL_MS, type ScheduleInput,
} from '@nightshift/client';
import { TaskRuns } from '@nightshift/store';
import { eventually } from '@nightshift/test-helpers';
import { installation, type Installation } from './support.ts';

let site: Installation;
before(async () => { site = await installation('client'); });
after(async () => { await site?.close(); });

const by = { by: 'ana' };
const daily = (name: string, extra: Partial<ScheduleInput> = {}): ScheduleInput => ({ name, task: 'reports.generate', schedule: '30 6 * * *', args: ['daily'], ...extra });

test('create refuses a bad entry naming the field, and stores nothing', async () => {
  const { schedules } = site.client;
  await schedules.create(daily('taken'), by);
  const before = await schedules.records.listRuntime();
  const refusals: [ScheduleInput, string][] = [
    [daily('bad-cron', { schedule: '61 * * * *' }), 'schedule'],
    [daily('never', { schedule: '0 0 30 feb *' }), 'schedule'],
    [daily('zone', { timezone: 'Mars/Olympus_Mons' }), 'timezone'],
    [daily('task', { task: 'reports.nope' }), 'task'],
    [daily('bad name!'), 'name'],
    [{ ...daily('note'), note: 42 as unknown as string }, 'note'],
  ];
  for (const [input, field] of refusals) {
    await assert.rejects(schedules.create(input, by), (error: unknown) => {
      assert.ok(error instanceof ConfigError, `${input.name}: ${String(error)}`);
      assert.equal(error.field, field, `${input.name}: ${error.message}`);
      return true;
    });
  }
  await assert.rejects(schedules.create(daily('nightly'), by), (error: unknown) => error instanceof ScheduleNameTakenError && error.takenBy === 'code' && error.field === 'name');
  await assert.rejects(schedules.create(daily('taken', { schedule: '0 9 * * *' }), by), (error: unknown) => error instanceof ScheduleNameTakenError && error.takenBy === 'runtime');
  await assert.rejects(schedules.create(daily('nobody'), { by: '' }), (error: unknown) => error instanceof BadParameterError && error.parameter === 'by');
  assert.deepEqual(await schedules.records.listRuntime(), before, 'nothing stored, nothing changed');
});

test('a runtime entry beside the code\'s: created, shown, changed against its version, removed; the code\'s is read-only', async () => {
  const { schedules } = site.client;
  const created = await schedules.create({ ...daily('morning', { timezone: 'America/New_York', jitter: '30s' }), note: 'for the US team' }, by);
  assert.equal(created.source, 'runtime');
  assert.deepEqual([created.version, created.createdBy, created.updatedBy, created.note], [1, 'ana', 'ana', 'for the US team']);
  assert.equal(created.timezone, 'America/New_York');
  assert.match(created.description, /06:30.*America\/New_York/);
  assert.equal(created.queue, 'reports');
  assert.equal(created.jitter, '30s');
  assert.equal(created.nextRuns.length, 5);
  assert.equal(created.paused, null);

  const listed = await schedules.list();
  const nightly = listed.find((view) => view.name === 'nightly');
  assert.deepEqual([nightly?.source, nightly?.version, nightly?.createdBy, nightly?.timezone], ['code', null, null, 'Europe/Berlin']);
  assert.ok(listed.some((view) => view.name === 'morning'));

  const changed = await schedules.update('morning', { schedule: '0 7 * * *', timezone: null, note: null }, { by: 'bo', version: 1 });
  assert.deepEqual([changed.version, changed.updatedBy, changed.createdBy, changed.note, changed.timezone, changed.schedule], [2, 'bo', 'ana', null, 'Europe/Berlin', '0 7 * * *']);
  assert.equal(changed.jitter, '30s', 'fields the patch does not name stay');
  await assert.rejects(schedules.update('morning', { schedule: '0 8 * * *' }, { by: 'cy', version: 1 }), (error: unknown) => error instanceof ScheduleConflictError && error.currentVersion === 2);
  await assert.rejects(schedules.update('morning', { schedule: '0 0 31 apr *' }, { by: 'cy', version: 2 }), (error: unknown) => error instanceof ConfigError && error.field === 'schedule');
  await assert.rejects(schedules.update('morning', { name: 'evening' }, { by: 'cy', version: 2 }), (error: unknown) => error instanceof ConfigError && error.field === 'name');
  assert.equal((await schedules.get('morning')).version, 2, 'the refused changes wrote nothing');

  await assert.rejects(schedules.update('nightly', { schedule: '0 3 * * *' }, { by: 'cy', version: 1 }), CodeEntryReadOnlyError);
  await assert.rejects(schedules.remove('nightly', by), CodeEntryReadOnlyError);
  await assert.rejects(schedules.update('nobody', { schedule: '0 3 * * *' }, { by: 'cy', version: 1 }), ScheduleNotFoundError);
  await assert.rejects(schedules.remove('morning', { by: 'cy', version: 1 }), ScheduleConflictError);
  await schedules.remove('morning', { by: 'cy', version: 2 });
  await assert.rejects(schedules.get('morning'), ScheduleNotFoundError);
});

test('two updates of one entry made against the same version: exactly one ScheduleConflictError', async () => {
  const { schedules } = site.client;
  await schedules.create(daily('contested'), by);
  const outcomes = await Promise.allSettled([
    schedules.update('contested', { schedule: '0 5 * * *' }, { by: 'ana', version: 1 }),
    schedules.update('contested', { schedule: '0 6 * * *' }, { by: 'bo', version: 1 }),
  ]);
  const conflicts = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof ScheduleConflictError);
  assert.equal(conflicts.length, 1, JSON.stringify(outcomes.map((o) => o.status)));
  assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
  assert.equal((await schedules.get('contested')).version, 2);
});

test('pause and resume, for the code\'s entries too, recorded with who, when and why', async () => {
  const { schedules } = site.client;
  const paused = await schedules.pause('nightly', { by: 'ana', note: 'partner API down' });
  assert.equal(paused.paused?.by, 'ana');
  assert.equal(paused.paused?.note, 'partner API down');
  assert.ok(paused.paused?.at !== null && Math.abs(Date.parse(paused.paused?.at ?? '') - Date.now()) < 60_000);
  assert.equal((await schedules.list()).find((view) => view.name === 'nightly')?.paused?.note, 'partner API down');
  const resumed = await schedules.resume('nightly', { by: 'bo' });
  assert.equal(resumed.paused, null);
  const state = await schedules.records.stateOf('nightly');
  assert.deepEqual([state?.resumedBy, state?.pausedBy, state?.pausedNote], ['bo', 'ana', 'partner API down']);
  await assert.rejects(schedules.pause('nobody', by), ScheduleNotFoundError);
});

test('run now sends one run with origin manual and beat\'s id for that instant, claimed on beat\'s key', async () => {
  const { schedules } = site.client;
  const reports = site.received.get('reports') ?? [];
  const before = reports.length;
  const result = await schedules.runNow('nightly', { by: 'ana' });
  assert.ok(result.sent);
  const [message] = await eventually('the run', () => (reports.length > before ? reports.slice(before) : undefined));
  await sleep(200);
  assert.equal(reports.length, before + 1, 'one message');
  const origin = message?.envelope.origin;
  assert.ok(origin?.type === 'manual');
  assert.deepEqual([origin.beat, origin.by], ['nightly', 'ana']);
  assert.equal(result.id, runId('nightly', Date.parse(origin.scheduledFor)));
  assert.equal(message?.messageId, result.id);
  assert.deepEqual(message?.envelope.args, ['daily']);
  const claim = beatKeys(site.config.prefix).run('nightly', Date.parse(origin.scheduledFor));
  assert.match(await site.redis.get(claim) ?? '', /"state":"sent"/);
  assert.ok(await site.redis.pttl(claim) > PERSON_CLAIM_TTL_MS - 60_000, 'a person\'s claim lasts a week');
  const event = await eventually('its beat.dispatched event', () => site.events.find((e) => e.id === result.id));
  assert.deepEqual([event.origin, event.by, event.entry, event.scheduledFor], ['manual', 'ana', 'nightly', origin.scheduledFor]);
});

test('run now obeys overlap skip while the last run is unfinished (within its horizon), unless forced', async () => {
  const { schedules } = site.client;
  await schedules.create(daily('exclusive', { overlap: 'skip' }), by);
  const runs = new TaskRuns(schedules.records.store);
  const sentAt = new Date().toISOString();
  await runs.record([{ runId: 'exclusive-running', state: 'started', at: sentAt, sentAt, name: 'reports.generate', attempt: 1, origin: { type: 'beat', beat: 'exclusive', scheduledFor: sentAt } }]);
  assert.deepEqual(await schedules.runNow('exclusive', by), { sent: false, reason: 'overlap', running: 'exclusive-running' });
  const forced = await schedules.runNow('exclusive', { by: 'ana', force: true });
  assert.equal(forced.sent, true);
  // A run that never said it finished, sent longer ago than its task could still be running: not blocking.
  await schedules.records.store.query(`UPDATE ${schedules.records.store.table('task_runs')} SET sent_at = now() - interval '1 hour' WHERE id = 'exclusive-running'`);
  await runs.record([{ runId: forced.sent ? forced.id : '', state: 'succeeded', at: new Date().toISOString(), sentAt: new Date(Date.now() - 3_600_000).toISOString(), name: 'reports.generate', attempt: 1 }]);
  assert.equal((await schedules.runNow('exclusive', by)).sent, true);
});

/** A fresh every-second entry and ten whole seconds of its past. */
async function everySecond(name: string): Promise<{ from: number; to: number; times: number[] }> {
  await site.client.schedules.create({ name, task: 'clock.tick', schedule: { every: '1s' } }, by);
  const from = Math.floor(Date.now() / 1_000) * 1_000 - 60_000;
  const times = Array.from({ length: 10 }, (_, i) => from + i * 1_000);
  return { from, to: from + 9_000, times };
}

const ticksOf = (name: string) => (site.received.get('ticks') ?? []).filter((m) => m.envelope.origin.type === 'backfill' && m.envelope.origin.beat === name);

test('backfill of 10 past fire times sends each once, oldest first; again, it sends none: all already there, also once the claims are gone', async () => {
  const { schedules } = site.client;
  const { from, to, times } = await everySecond('ten');
  const progress: string[] = [];
  const first = await schedules.backfill('ten', { from: new Date(from), to: new Date(to).toISOString(), by: 'ana', ratePerSecond: 100, onProgress: (p) => progress.push(`${p.outcome}@${p.fireTime}`) });
  assert.deepEqual(first, { fireTimes: 10, sent: 10, alreadyThere: 0 });
  assert.deepEqual(progress, times.map((ms) => `sent@${new Date(ms).toISOString()}`), 'oldest first');
  await eventually('ten runs', () => ticksOf('ten').length >= 10);
  const ids = ticksOf('ten').map((m) => m.messageId);
  assert.deepEqual([...ids].sort(), times.map((ms) => runId('ten', ms)).sort(), 'beat\'s id of each fire time');
  assert.ok(ticksOf('ten').every((m) => m.envelope.origin.type === 'backfill' && m.envelope.origin.by === 'ana'));

  assert.deepEqual(await schedules.backfill('ten', { from: new Date(from), to: new Date(to), by: 'bo', ratePerSecond: 100 }), { fireTimes: 10, sent: 0, alreadyThere: 10 });

  // A week later the claims have expired; the history still knows: half by their fires, half by their runs.
  for (const ms of times) await site.redis.del(beatKeys(site.config.prefix).run('ten', ms));
  await schedules.records.recordFires(times.slice(0, 5).map((ms) => ({ entry: 'ten', fireTime: new Date(ms).toISOString(), origin: 'backfill' as const, state: 'sent' as const, runId: runId('ten', ms) })));
  await new TaskRuns(schedules.records.store).record(times.slice(5).map((ms) => ({ runId: runId('ten', ms), state: 'sent' as const, at: new Date(ms).toISOString(), name: 'clock.tick', attempt: 1 })));
  assert.deepEqual(await schedules.backfill('ten', { from: new Date(from), to: new Date(to), by: 'bo', ratePerSecond: 100 }), { fireTimes: 10, sent: 0, alreadyThere: 10 });
  await sleep(200);
  assert.equal(ticksOf('ten').length, 10, 'nothing sent twice');
});

test('backfill leaves a fire time beat claimed alone, and sends one beat claimed and recorded missed', async () => {
  const { schedules } = site.client;
  const { from, times } = await everySecond('shared');
  const keys = beatKeys(site.config.prefix);
  const [claimed, missed] = times as [number, number];
  await site.redis.set(keys.run('shared', claimed), JSON.stringify({ by: 'beat-1', claimedAt: new Date().toISOString() }), 'PX', 3_600_000);
  await site.redis.set(keys.run('shared', missed), JSON.stringify({ by: 'beat-1', state: 'missed', reason: 'expired', at: new Date().toISOString() }), 'PX', 3_600_000);
  const result = await schedules.backfill('shared', { from: new Date(from), to: new Date(from + 2_000), by: 'ana', ratePerSecond: 100 });
  assert.deepEqual(result, { fireTimes: 3, sent: 2, alreadyThere: 1 });
  await eventually('two runs', () => ticksOf('shared').length >= 2);
  await sleep(200);
  assert.deepEqual(ticksOf('shared').map((m) => m.messageId).sort(), [runId('shared', missed), runId('shared', from + 2_000)].sort());
  assert.match(await site.redis.get(keys.run('shared', claimed)) ?? '', /beat-1/, 'beat\'s claim untouched');
});

test('backfill sends a fire time whose leader claimed it and died before sending it, and no other beat claim', async () => {
  const { schedules } = site.client;
  const { from, times } = await everySecond('orphaned');
  const keys = beatKeys(site.config.prefix);
  const [abandoned, recent, stillLeading] = times as [number, number, number];
  const now = Date.now();
  const claim = (token: string, claimedAtMs: number) => JSON.stringify({ by: 'beat-1', token, claimedAt: new Date(claimedAtMs).toISOString(), claimedAtMs });
  await site.redis.set(keys.lease, 'beat-2#0123456789ab', 'PX', 60_000);
  // beat-1 claimed the first two and was SIGKILLed before sending: beat-2 leads now
  await site.redis.set(keys.run('orphaned', abandoned), claim('beat-1#aaaaaaaaaaaa', now - 120_000), 'PX', 3_600_000);
  await site.redis.set(keys.run('orphaned', recent), claim('beat-1#aaaaaaaaaaaa', now - 5_000), 'PX', 3_600_000);
  // the leader claimed the third and may still be sending it
  await site.redis.set(keys.run('orphaned', stillLeading), claim('beat-2#0123456789ab', now - 120_000), 'PX', 3_600_000);
  const result = await schedules.backfill('orphaned', { from: new Date(from), to: new Date(stillLeading), by: 'ana', ratePerSecond: 100 });
  assert.deepEqual(result, { fireTimes: 3, sent: 1, alreadyThere: 2 });
  await eventually('one run', () => ticksOf('orphaned').length >= 1);
  await sleep(200);
  assert.deepEqual(ticksOf('orphaned').map((m) => m.messageId), [runId('orphaned', abandoned)], 'only the abandoned one, with beat\'s id for it');
  await site.redis.del(keys.lease);
});

test('backfill honours its rate', async () => {
  const { schedules } = site.client;
  const { from } = await everySecond('paced');
  const running = schedules.backfill('paced', { from: new Date(from), to: new Date(from + 5_000), by: 'ana', ratePerSecond: 2 });
  await eventually('the first run', () => ticksOf('paced').length >= 1);
  await sleep(1_000);
  const afterASecond = ticksOf('paced').length;
  assert.ok(afterASecond <= 4, `at 2 a second, at most 1 + 2 (+1 in flight) one second after the first; got ${afterASecond}`);
  assert.deepEqual(await running, { fireTimes: 6, sent: 6, alreadyThere: 0 });
  await eventually('six runs', () => ticksOf('paced').length >= 6);
});

test('backfill refuses what it cannot do, naming the parameter', async () => {
  const { schedules } = site.client;
  const now = Date.now();
  const refused = async (options: Parameters<typeof schedules.backfill>[1], parameter: string) =>
    assert.rejects(schedules.backfill('nightly', options), (error: unknown) => error instanceof BadParameterError && error.parameter === parameter);
  await refused({ from: new Date(now - 60_000), to: new Date(now + 60_000), by: 'ana' }, 'to');
  await refused({ from: new Date(now - 1_000), to: new Date(now - 60_000), by: 'ana' }, 'from');
  await refused({ from: 'last tuesday', to: new Date(now), by: 'ana' }, 'from');
  await refused({ from: new Date(now - 60_000), to: new Date(now), by: 'ana', ratePerSecond: 0 }, 'ratePerSecond');
  await schedules.create({ name: 'dense', task: 'clock.tick', schedule: { every: '1s' } }, by);
  await assert.rejects(schedules.backfill('dense', { from: new Date(now - 86_400_000), to: new Date(now - 1_000), by: 'ana' }), (error: unknown) => error instanceof BadParameterError && /more than 10000 fire times/.test(error.message));
  await assert.rejects(schedules.backfill('nobody', { from: new Date(now - 60_000), to: new Date(now), by: 'ana' }), ScheduleNotFoundError);
});

test('history: the next fire times and the recent fires with their runs\' outcomes', async () => {
  const { schedules } = site.client;
  const base = Date.parse('2030-01-01T01:00:00.000Z');
  await schedules.records.recordFires([
    { entry: 'nightly', fireTime: new Date(base).toISOString(), origin: 'schedule', state: 'sent', runId: 'nightly-run-1' },
    { entry: 'nightly', fireTime: new Date(base + 86_400_000).toISOString(), origin: 'schedule', state: 'paused' },
  ]);
  await new TaskRuns(schedules.records.store).record([{ runId: 'nightly-run-1', state: 'succeeded', at: new Date(base + 5_000).toISOString(), sentAt: new Date(base).toISOString(), name: 'reports.generate', attempt: 1, runtimeMs: 4_000 }]);
  const history = await schedules.history('nightly', { before: '2031-01-01T00:00:00Z' });
  assert.equal(history.next.length, 5);
  assert.ok(history.next.every((at) => Date.parse(at) > Date.now()));
  assert.deepEqual(history.fires.map((f) => [f.state, f.run?.state ?? null, f.run?.runtimeMs ?? null]), [['paused', null, null], ['sent', 'succeeded', 4_000]]);
  await assert.rejects(schedules.history('nobody'), ScheduleNotFoundError);
});

test('a stored entry whose task left the app is listed with its problem; running it says why it cannot', async () => {
  const { schedules } = site.client;
  await schedules.records.insert('orphan', { name: 'orphan', task: 'reports.retired', schedule: '0 1 * * *' }, null, 'ana');
  const orphan = (await schedules.list()).find((view) => view.name === 'orphan');
  assert.match(orphan?.problem ?? '', /reports\.retired/);
  assert.deepEqual(orphan?.nextRuns, []);
  await assert.rejects(schedules.runNow('orphan', by), (error: unknown) => error instanceof ConfigError && error.field === 'task');
  await schedules.pause('orphan', { by: 'ana', note: 'until someone decides' });
});
