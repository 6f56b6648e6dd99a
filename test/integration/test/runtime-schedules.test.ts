// The proof of runtime schedules (issue 14), end to end: a health-api process (the REST API, and the recorder that
// writes each fire's fate from beat's events), two beat replicas, a worker and the CLI, each a process of its own on
// the real PostgreSQL, Redis and RabbitMQ; what arrives in RabbitMQ is read off the entries' queues, which no worker
// takes. Every entry fires each second or two; fire times, message ids and origins are counted exactly.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { loadConfig } from '@nightshift/core';
import { Broker, brokerOptions } from '@nightshift/broker';
import { beatKeys, leaseHolder, runId } from '@nightshift/beat-state';
import type { FireView, ScheduleHistory, ScheduleView } from '@nightshift/client';
import { eventually, randomPrefix, removePrefix, requireServices, type ServiceUrls } from '@nightshift/test-helpers';
import { originOf, RunTap, type TappedRun } from './support/run-tap.ts';
import { runCli, spawnService, type ServiceProcess } from './support/service-process.ts';

const APP = fileURLToPath(new URL('./fixtures/schedules-app.ts', import.meta.url));
const TOKEN = `proof-${randomBytes(12).toString('hex')}`;
// Who the REST API says made a change with the bearer token, and who the CLI says its user is.
const API_USER = 'api-token';
const CLI_USER = 'ops-on-call';
// The entries' queues the tap reads; `slow` is the worker's.
const TAPPED = ['rest', 'cli', 'handover'];

let urls: ServiceUrls;
let prefix: string;
let env: Record<string, string>;
let api: ServiceProcess;
let apiUrl: string;
let worker: ServiceProcess;
const beats: ServiceProcess[] = [];
let tap: RunTap;
let redis: Redis;

before(async () => {
  urls = await requireServices('rabbitmq', 'redis', 'postgres');
  prefix = randomPrefix('sched-proof');
  env = {
    NIGHTSHIFT_AMQP_URL: urls.amqpUrl, NIGHTSHIFT_REDIS_URL: urls.redisUrl, NIGHTSHIFT_DATABASE_URL: urls.databaseUrl,
    NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix, NIGHTSHIFT_METRICS_PORT: '0', NIGHTSHIFT_LOG_LEVEL: 'info',
    NIGHTSHIFT_PUBLISH_TIMEOUT: '5s',
  };
  // The health-api migrates the store before it is ready: the beats start on the tables.
  api = spawnService('health-api', 'services/health-api/src/main.ts', ['--app', APP], {
    ...env, NIGHTSHIFT_HTTP_PORT: '0', NIGHTSHIFT_HTTP_HOST: '127.0.0.1', NIGHTSHIFT_API_TOKEN: TOKEN,
  });
  apiUrl = String((await api.line('ready', (line) => line.msg === 'health-api ready')).url);
  // Declared as a producer declares them, so that the tap reads them before the first run.
  const broker = await Broker.connect(brokerOptions(loadConfig(env), 'schedules-proof'));
  for (const queue of [...TAPPED, 'slow']) await broker.ensureQueue(queue);
  await broker.close();
  tap = await RunTap.open(urls.amqpUrl, prefix, TAPPED);
  redis = new Redis(urls.redisUrl);
  for (const replica of ['beat-1', 'beat-2']) beats.push(spawnService(replica, 'services/beat/src/main.ts', ['--app', APP], env));
  worker = spawnService('worker', 'services/worker/src/main.ts', ['--app', APP, '--queues', 'slow', '--concurrency', '3'], env);
  await Promise.all([
    ...beats.map((beat) => beat.line('started', (line) => line.msg === 'beat started')),
    worker.line('metrics served', (line) => line.msg === 'metrics served'),
  ]);
  await eventually('a beat leader', async () => (await redis.get(beatKeys(prefix).lease)) !== null, 20_000);
});

after(async () => {
  await Promise.all([...beats, worker, api].filter((service) => service !== undefined).map((service) => service.stop()));
  await tap?.close();
  redis?.disconnect();
  if (prefix !== undefined) await removePrefix(urls, prefix);
});

interface Answer<T> {
  readonly status: number;
  readonly body: T;
  readonly etag: string | null;
}
type ErrorBody = { error: { code: string; message: string } };

/** A call of the REST API with the bearer token (a script's credential: no CSRF token). */
async function rest<T = ScheduleView>(method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer<T>> {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: (text === '' ? undefined : JSON.parse(text)) as T, etag: response.headers.get('etag') };
}

/** An entry's next fire times and its fires, newest first, from `GET /api/schedules/{name}/runs`. */
async function history(name: string): Promise<ScheduleHistory> {
  const answer = await rest<ScheduleHistory>('GET', `/api/schedules/${encodeURIComponent(name)}/runs?limit=500`);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return answer.body;
}

/** The fire times (ms) the history's rows in `state` stand for (a row may stand for several, `count` of them). */
function fireTimesIn(fires: readonly FireView[], state: FireView['state'], stepMs: number): number[] {
  const times: number[] = [];
  for (const fire of fires.filter((f) => f.state === state)) {
    const through = Date.parse(fire.throughTime ?? fire.fireTime);
    const covered = grid(Date.parse(fire.fireTime), through, stepMs);
    assert.equal(covered.length, fire.count, `a ${state} row stands for its count of fire times: ${JSON.stringify(fire)}`);
    times.push(...covered);
  }
  return times.sort((a, b) => a - b);
}

const iso = (ms: number) => new Date(ms).toISOString();
const fireOf = (run: TappedRun) => originOf(run).fireMs;
const clock = (ms: number) => iso(ms).slice(11, 19);
/** Every fire time of an interval entry from `fromMs` through `throughMs` (both on its grid). */
const grid = (fromMs: number, throughMs: number, stepMs: number) => Array.from({ length: Math.max(0, Math.floor((throughMs - fromMs) / stepMs) + 1) }, (_, i) => fromMs + i * stepMs);
/** The first fire time of an every-`stepMs` entry (anchored at the epoch) after `ms`. */
const firstAfter = (ms: number, stepMs: number) => Math.floor(ms / stepMs) * stepMs + stepMs;

/** The values met again after their first time (one for each repeat). */
function duplicates<T>(values: readonly T[]): T[] {
  const seen = new Set<T>();
  return values.filter((value) => (seen.has(value) ? true : (seen.add(value), false)));
}

/** The beat process holding the lease now. */
async function leader(): Promise<ServiceProcess> {
  const token = await redis.get(beatKeys(prefix).lease);
  const pid = Number(/:(\d+)$/.exec(leaseHolder(token ?? ''))?.[1]);
  const found = beats.find((beat) => beat.child.pid === pid && beat.child.exitCode === null);
  assert.ok(found, `the lease (${token}) names one of the running beats`);
  return found;
}

/** `nightshift_beat_runs_missed_total` of an entry for a reason, summed over the beats still running. */
async function missedMetric(entry: string, reason: string): Promise<number> {
  let total = 0;
  for (const beat of beats.filter((b) => b.child.exitCode === null && b.child.signalCode === null)) {
    const url = String(beat.lines.find((line) => line.msg === 'beat started')?.metrics);
    const text = await (await fetch(url)).text();
    const line = text.split('\n').find((l) => l.startsWith('nightshift_beat_runs_missed_total{') && l.includes(`entry="${entry}"`) && l.includes(`reason="${reason}"`));
    total += line === undefined ? 0 : Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return total;
}

test('REST API: create → sent from its next fire; update → the new schedule; one of two updates at one version conflicts; pause → none sent, counted; resume → no catch-up; run now; remove → no further runs', { timeout: 90_000 }, async (t) => {
  const name = 'rest-tick';
  const path = `/api/schedules/${name}`;
  const runs = () => tap.runs('rest');
  const beatRuns = () => runs().filter((run) => originOf(run).type === 'beat');
  const argsOf = (run: TappedRun) => run.envelope.args[0];

  // misfire all: a fire time the schedule owes is sent even when a loaded machine wakes beat late.
  const created = await rest('POST', '/api/schedules', { name, task: 'clock.tick', schedule: { every: '1s' }, queue: 'rest', args: ['v1'], misfire: 'all', note: 'the proof' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal(created.etag, '"1"');
  assert.deepEqual([created.body.source, created.body.createdBy, created.body.version], ['runtime', API_USER, 1]);
  const createdAt = Date.parse(created.body.createdAt as string);
  const first = await eventually('the first run', () => runs()[0], 10_000);
  const firstFire = fireOf(first);
  t.diagnostic(`create at ${clock(createdAt)}: first fire time ${firstFire - createdAt} ms after, received ${first.receivedAt - createdAt} ms after`);
  assert.deepEqual(first.envelope.origin, { type: 'beat', beat: name, scheduledFor: iso(firstFire) });
  assert.equal(first.messageId, runId(name, firstFire));
  assert.ok(firstFire > createdAt, 'no fire time before the entry existed');
  // Applied through the notification: the reconcile would only find it after 15 s.
  assert.ok(firstFire <= createdAt + 3_000, `sent from one of its next fire times: ${firstFire - createdAt} ms after the create`);

  // Every 2 s, other arguments: the runs after the change are the new definition's.
  const updated = await rest('PATCH', path, { schedule: { every: '2s' }, args: ['v2'] }, { 'if-match': created.etag as string });
  assert.equal(updated.status, 200, JSON.stringify(updated.body));
  assert.equal(updated.etag, '"2"');
  const changedAt = Date.parse(updated.body.updatedAt as string);
  const v2 = await eventually('two runs of the new schedule', () => {
    const found = runs().filter((run) => argsOf(run) === 'v2');
    return found.length >= 2 && found;
  }, 10_000);
  const v2Fires = v2.map(fireOf);
  assert.ok(v2Fires.every((at) => at % 2_000 === 0 && at > changedAt), `every 2 s, from after the change: ${v2Fires.map(clock)}`);
  assert.equal(v2Fires[1], (v2Fires[0] as number) + 2_000, 'each fire time of the new schedule');
  const firstV2 = runs().indexOf(v2[0] as TappedRun);
  assert.ok(runs().slice(firstV2).every((run) => argsOf(run) === 'v2'), 'no run of the old definition after the first of the new');

  // Two people change it at once, both against version 2: one wins, the other is told, nothing is lost silently.
  const [a, b] = await Promise.all(['v3-a', 'v3-b'].map((label) => rest<ScheduleView | ErrorBody>('PATCH', path, { args: [label] }, { 'if-match': '"2"' })));
  assert.deepEqual([a?.status, b?.status].sort(), [200, 409], 'exactly one conflict');
  const [winner, loser] = a?.status === 200 ? [a, b] : [b, a];
  assert.equal((loser?.body as ErrorBody).error.code, 'E_SCHEDULE_CONFLICT');
  assert.equal(winner?.etag, '"3"');
  const kept = (winner?.body as ScheduleView).args[0] as string;
  const current = await rest('GET', path);
  assert.deepEqual([current.body.version, current.body.args], [3, [kept]], 'the winner\'s change is the entry');
  await eventually('a run of the winner\'s change', () => runs().some((run) => argsOf(run) === kept), 10_000);

  // Pause: from when beat hears of it, its fire times are not sent, and each is recorded paused.
  const pausedAnswer = await rest('POST', `${path}/pause`, { note: 'the partner API is down' });
  assert.equal(pausedAnswer.status, 200, JSON.stringify(pausedAnswer.body));
  assert.deepEqual([pausedAnswer.body.paused?.by, pausedAnswer.body.paused?.note], [API_USER, 'the partner API is down']);
  const pausedAt = Date.parse(pausedAnswer.body.paused?.at as string);
  await eventually('two fire times recorded paused', async () => fireTimesIn((await history(name)).fires, 'paused', 2_000).length >= 2, 15_000);
  const resumeAsked = Date.now();
  const resumed = await rest('POST', `${path}/resume`);
  assert.equal(resumed.status, 200, JSON.stringify(resumed.body));
  assert.equal(resumed.body.paused, null);
  const afterResume = await eventually('a run after the resume', () => beatRuns().find((run) => fireOf(run) > resumeAsked), 10_000);
  const paused = await eventually('every paused fire time recorded', async () => {
    const times = fireTimesIn((await history(name)).fires, 'paused', 2_000);
    return times.at(-1) === fireOf(afterResume) - 2_000 && times;
  }, 10_000).catch(async (error: Error) => {
    throw new Error(`${error.message}: paused ${fireTimesIn((await history(name)).fires, 'paused', 2_000).map(clock)}, first run after the resume ${clock(fireOf(afterResume))}`);
  });
  const [firstPaused = 0, lastPaused = 0] = [paused[0], paused.at(-1)];
  t.diagnostic(`pause at ${clock(pausedAt)}: first fire time recorded paused ${clock(firstPaused)}; resume at ${clock(resumeAsked)}: next run ${clock(fireOf(afterResume))}; ${paused.length} paused`);
  assert.deepEqual(paused, grid(firstPaused, lastPaused, 2_000), 'every fire time from the first paused to the resumption is recorded paused, once');
  assert.ok(firstPaused - pausedAt <= 3_000, `beat heard of the pause at once: first paused fire time ${firstPaused - pausedAt} ms after it`);
  assert.deepEqual(runs().filter((run) => fireOf(run) >= firstPaused && fireOf(run) <= lastPaused).map((run) => clock(fireOf(run))), [], 'none sent while paused');
  assert.ok(fireOf(afterResume) > resumeAsked, 'no catch-up: the first run after the resume is a fire time after it');
  assert.equal(fireOf(afterResume), firstAfter(lastPaused, 2_000), 'from its next fire time');
  assert.equal(await missedMetric(name, 'paused'), paused.length, 'each paused fire time counted in beat\'s missed runs');

  // Run now: one run at once, origin manual with who; the schedule's own runs go on.
  const manual = await rest<{ id: string; sent: boolean }>('POST', `${path}/run-now`, {});
  assert.equal(manual.status, 202, JSON.stringify(manual.body));
  assert.equal(manual.body.sent, true);
  const manualRun = await eventually('the run now', () => runs().find((run) => run.messageId === manual.body.id), 10_000);
  const manualOrigin = manualRun.envelope.origin as { type: string; beat: string; by: string; scheduledFor: string };
  assert.deepEqual([manualOrigin.type, manualOrigin.beat, manualOrigin.by], ['manual', name, API_USER]);
  assert.equal(manualRun.messageId, runId(name, fireOf(manualRun)), 'claimed and named as the fire time of its instant');
  assert.equal(runs().filter((run) => originOf(run).type === 'manual').length, 1, 'one run');
  const nextScheduled = await eventually('the schedule\'s next run', () => beatRuns().find((run) => fireOf(run) > fireOf(manualRun)), 10_000);
  assert.equal(fireOf(nextScheduled), firstAfter(fireOf(manualRun), 2_000), 'the schedule\'s next fire time is sent as before');
  await eventually('the run now in the history', async () => (await history(name)).fires.find((f) => f.runId === manual.body.id && f.origin === 'manual' && f.by === API_USER), 10_000);

  // Remove: no further runs.
  const latest = await rest('GET', path);
  const removed = await rest<{ removed: boolean }>('DELETE', path, undefined, { 'if-match': latest.etag as string });
  assert.equal(removed.status, 200, JSON.stringify(removed.body));
  const removedAt = Date.now();
  await sleep(5_000);
  const late = beatRuns().filter((run) => fireOf(run) > removedAt + 2_000);
  assert.deepEqual(late.map((run) => clock(fireOf(run))), [], `no run after the removal at ${clock(removedAt)} (beat applies it within a second)`);
  assert.equal((await rest<ErrorBody>('GET', path)).body.error.code, 'E_SCHEDULE_NOT_FOUND');

  // Through it all, each fire time once, with the id beat gives it.
  assert.deepEqual(duplicates(runs().map((run) => run.messageId)), [], 'no message id twice');
  assert.deepEqual(duplicates(runs().map(fireOf)), [], 'no fire time twice');
  for (const run of beatRuns()) assert.equal(run.messageId, runId(name, fireOf(run)));
});

test('CLI with --json: create, pause, resume, run-now and history print what RabbitMQ and the history hold', { timeout: 90_000 }, async (t) => {
  const name = 'cli-tick';
  const runs = () => tap.runs('cli');
  const cli = async (...argv: string[]) => {
    const result = await runCli(['schedule', ...argv, '--app', APP, '--json'], { ...env, USER: CLI_USER });
    assert.equal(result.code, 0, `nightshift schedule ${argv.join(' ')}: ${result.stderr}`);
    return result.records();
  };

  const [created] = await cli('create', '--name', name, '--task', 'clock.tick', '--every', '1s', '--queue', 'cli', '--args', '["cli"]', '--misfire', 'all');
  assert.deepEqual([created?.name, created?.source, created?.version, created?.createdBy, created?.queue], [name, 'runtime', 1, CLI_USER, 'cli']);
  const createdAt = Date.parse(String(created?.createdAt));
  const first = await eventually('the first run', () => runs()[0], 10_000);
  assert.deepEqual([first.envelope.task, first.envelope.args, originOf(first).type], ['clock.tick', ['cli'], 'beat']);
  assert.ok(fireOf(first) > createdAt && fireOf(first) <= createdAt + 3_000, `from one of its next fire times: ${fireOf(first) - createdAt} ms after the create`);

  const [paused] = await cli('pause', name, '--note', 'partner asked us to stop');
  const pausedView = paused?.paused as { by: string; at: string; note: string };
  assert.deepEqual([paused?.name, pausedView.by, pausedView.note], [name, CLI_USER, 'partner asked us to stop']);
  await eventually('two fire times recorded paused', async () => fireTimesIn((await history(name)).fires, 'paused', 1_000).length >= 2, 15_000);
  const resumeAsked = Date.now();
  const [resumed] = await cli('resume', name);
  assert.deepEqual([resumed?.name, resumed?.paused], [name, null]);
  const nextRun = Date.parse(String(resumed?.nextRun));
  assert.ok(nextRun > resumeAsked, 'the next run it names is after the resumption');
  await eventually('the run it named', () => runs().find((run) => fireOf(run) === nextRun && originOf(run).type === 'beat'), 10_000);
  // The paused fire times: every one from the first paused to the first sent after the resumption.
  const pausedTimes = await eventually('every paused fire time recorded', async () => {
    const times = fireTimesIn((await history(name)).fires, 'paused', 1_000);
    const resumedRun = runs().find((run) => originOf(run).type === 'beat' && fireOf(run) > (times[0] ?? Infinity));
    return resumedRun !== undefined && times.at(-1) === fireOf(resumedRun) - 1_000 && times;
  }, 10_000);
  assert.deepEqual(pausedTimes, grid(pausedTimes[0] as number, pausedTimes.at(-1) as number, 1_000), 'each fire time while paused recorded paused, once');
  assert.ok(firstAfter(pausedTimes.at(-1) as number, 1_000) <= nextRun, 'the first run after the resumption is at most the one it named');
  assert.deepEqual(runs().filter((run) => pausedTimes.includes(fireOf(run))).map((run) => clock(fireOf(run))), [], 'no paused fire time was sent, nor caught up');

  const [manual] = await cli('run-now', name);
  assert.deepEqual([manual?.name, manual?.sent], [name, true]);
  const manualRun = await eventually('the run now', () => runs().find((run) => run.messageId === manual?.id), 10_000);
  assert.deepEqual([originOf(manualRun).type, originOf(manualRun).by, originOf(manualRun).entry], ['manual', CLI_USER, name]);

  // The history, once the recorder has every run the tap got up to the run now: the CLI prints the same fates.
  const cutoff = fireOf(manualRun);
  const sentUpTo = () => new Map(runs().filter((run) => fireOf(run) <= cutoff).map((run) => [run.messageId, run]));
  await eventually('the recorder to have every run up to the run now', async () => {
    const recorded = new Set((await history(name)).fires.filter((f) => f.state === 'sent').map((f) => f.runId));
    return [...sentUpTo().keys()].every((id) => recorded.has(id));
  }, 15_000);
  const [heading, ...fires] = await cli('history', name, '--limit', '500');
  assert.equal(heading?.entry, name);
  assert.ok(Array.isArray(heading?.next) && (heading.next as string[]).length > 0, 'its next fire times');
  const printed = (fires as unknown as FireView[]).filter((fire) => Date.parse(fire.fireTime) <= cutoff);
  const printedSent = printed.filter((fire) => fire.state === 'sent');
  const tapped = sentUpTo();
  assert.equal(printedSent.length, tapped.size, 'one sent fire for each run that arrived');
  for (const fire of printedSent) {
    const run = tapped.get(fire.runId as string);
    assert.ok(run, `the run ${fire.runId} arrived`);
    assert.equal(fire.fireTime, iso(fireOf(run)));
    assert.equal(fire.origin, originOf(run).type === 'beat' ? 'schedule' : originOf(run).type);
  }
  assert.deepEqual(printedSent.filter((fire) => fire.origin === 'manual').map((fire) => [fire.runId, fire.by]), [[manual?.id, CLI_USER]]);
  assert.deepEqual(fireTimesIn(printed, 'paused', 1_000), pausedTimes, 'the paused fire times, as the REST API lists them');
  t.diagnostic(`${tapped.size} runs up to the run now (${pausedTimes.length} paused fire times between)`);
  assert.equal((await rest('DELETE', `/api/schedules/${name}`)).status, 200);
});

test('backfill while beat dispatches the same entry and the leader is SIGKILLed halfway: each fire time arrives once, and the results match', { timeout: 120_000 }, async (t) => {
  const name = 'handover-tick';
  const runs = () => tap.runs('handover');
  const by = (type: string, who?: string) => runs().filter((run) => originOf(run).type === type && (who === undefined || originOf(run).by === who));
  // misfire all: the new leader sends each fire time of the handover, so every second is someone's to send.
  const created = await rest('POST', '/api/schedules', { name, task: 'clock.tick', schedule: { every: '1s' }, queue: 'handover', misfire: { policy: 'all', cap: 60 } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const createdAt = Date.parse(created.body.createdAt as string);
  await eventually('four runs from beat', () => runs().length >= 4, 15_000);
  const firstBeatFire = Math.min(...by('beat').map(fireOf));
  // Ten fire times nobody sent (from before the entry existed), then those beat sent so far.
  const from = firstBeatFire - 10_000;
  const to = Math.floor(Date.now() / 1_000) * 1_000;

  // The CLI's backfill, one a second: its ten sends take ten seconds.
  const cliBackfill = runCli(['schedule', 'backfill', name, '--from', iso(from), '--to', iso(to), '--rate', '1', '--app', APP, '--json'], { ...env, USER: CLI_USER });
  await eventually('half of the backfill sent', () => by('backfill', CLI_USER).length >= 5, 30_000);
  // Killed half a second past a fire time, while it sleeps: a leader killed between claiming a fire time and
  // publishing it would leave that one claimed and never sent (beat's at-most-once), which is not what this proves.
  await sleep(1_500 - (Date.now() % 1_000));
  const victim = await leader();
  const killedAt = Date.now();
  victim.child.kill('SIGKILL');
  await victim.exited;
  // While no beat leads: a second backfill, through the REST API, up to now: fire times nobody sent yet, which the
  // next leader's catch-up sends too unless it finds them claimed; and the first backfill's, still under way.
  await sleep(1_500);
  const restTo = Math.floor(Date.now() / 1_000) * 1_000;
  const restBackfill = rest<{ fireTimes: number; sent: number; alreadyThere: number }>('POST', `/api/schedules/${name}/backfill`, { from: iso(from), to: iso(restTo), ratePerSecond: 100 });
  const [cliResult, restResult] = await Promise.all([cliBackfill, restBackfill]);
  assert.equal(cliResult.code, 0, cliResult.stderr);
  assert.equal(restResult.status, 200, JSON.stringify(restResult.body));
  const viaCli = cliResult.records()[0] as { fireTimes: number; sent: number; alreadyThere: number };
  const viaRest = restResult.body;

  // The new leader dispatches on: wait for three seconds of its runs past the second backfill's range.
  const end = restTo + 3_000;
  await eventually('the new leader dispatching', () => by('beat').some((run) => fireOf(run) >= end), 20_000);
  assert.equal((await rest('DELETE', `/api/schedules/${name}`)).status, 200);
  await sleep(500);

  const fires = runs().map(fireOf);
  assert.deepEqual(duplicates(runs().map((run) => run.messageId)), [], 'no message id twice');
  assert.deepEqual(duplicates(fires).map(clock), [], 'no fire time twice');
  for (const run of runs()) assert.equal(run.messageId, runId(name, fireOf(run)), 'each run has the id of its fire time, whoever sent it');
  const every = grid(from, end, 1_000);
  assert.deepEqual(every.filter((at) => !fires.includes(at)).map(clock), [], `every fire time from ${clock(from)} to ${clock(end)} arrived`);

  const cliSent = by('backfill', CLI_USER).map(fireOf);
  const restSent = by('backfill', API_USER).map(fireOf);
  const beatSent = by('beat').map(fireOf);
  assert.deepEqual([by('backfill').length, by('manual').length], [cliSent.length + restSent.length, 0]);
  assert.ok(beatSent.every((at) => at > createdAt), 'beat sent no fire time from before the entry existed');
  assert.ok(grid(from, firstBeatFire - 1_000, 1_000).every((at) => cliSent.includes(at) || restSent.includes(at)), 'the fire times nobody sent were backfilled');
  assert.ok(cliSent.every((at) => at >= from && at <= to) && restSent.every((at) => at >= from && at <= restTo), 'each backfill sent within its range');
  assert.deepEqual(viaCli, { name, from: iso(from), to: iso(to), fireTimes: (to - from) / 1_000 + 1, sent: cliSent.length, alreadyThere: (to - from) / 1_000 + 1 - cliSent.length },
    'the CLI\'s backfill says what it sent, and that the rest was there');
  assert.deepEqual(viaRest, { fireTimes: (restTo - from) / 1_000 + 1, sent: restSent.length, alreadyThere: (restTo - from) / 1_000 + 1 - restSent.length },
    'the REST API\'s backfill says what it sent, and that the rest was there');

  // The history agrees: each fire time recorded sent once, by whom it arrived from.
  await eventually('the history to record every run', async () => (await history(name)).fires.filter((f) => f.state === 'sent' && Date.parse(f.fireTime) <= end).length === every.length, 15_000);
  const recorded = (await history(name)).fires.filter((f) => f.state === 'sent' && Date.parse(f.fireTime) <= end);
  const origins = (origin: string) => recorded.filter((f) => f.origin === origin).map((f) => Date.parse(f.fireTime)).sort((a, b) => a - b);
  assert.deepEqual(origins('backfill'), [...cliSent, ...restSent].filter((at) => at <= end).sort((a, b) => a - b));
  assert.deepEqual(origins('schedule'), beatSent.filter((at) => at <= end).sort((a, b) => a - b));

  // What the handover looked like.
  const beatRuns = by('beat');
  const lastOld = beatRuns.filter((run) => run.receivedAt < killedAt).at(-1);
  const firstNew = beatRuns.find((run) => run.receivedAt > killedAt);
  const caughtUp = beatRuns.filter((run) => run.receivedAt > killedAt && run.receivedAt - fireOf(run) > 1_000);
  const gap = grid(fireOf(lastOld as TappedRun) + 1_000, fireOf(firstNew as TappedRun) - 1_000, 1_000);
  t.diagnostic(`range ${clock(from)}..${clock(end)} (${every.length} fire times); the CLI's backfill ${clock(from)}..${clock(to)}: ${JSON.stringify(viaCli)}; ` +
    `the REST backfill ${clock(from)}..${clock(restTo)}: ${JSON.stringify(viaRest)}; beat sent ${beatSent.length}`);
  t.diagnostic(`leader killed at ${clock(killedAt)}.${killedAt % 1_000}; the new leader's first run arrived ${(firstNew?.receivedAt ?? 0) - killedAt} ms later ` +
    `(fire time ${clock(fireOf(firstNew as TappedRun))}); ${caughtUp.length} of its runs were late catch-up; fire times between the leaders' runs: ` +
    `${gap.map((at) => `${clock(at)} by ${restSent.includes(at) ? 'the REST backfill' : cliSent.includes(at) ? 'the CLI backfill' : 'nobody'}`).join(', ')}`);
});

test('overlap skip with a task slower than the period: never two runs at once, the fires in between recorded overlap', { timeout: 60_000 }, async (t) => {
  const name = 'slow-report';
  const created = await rest('POST', '/api/schedules', { name, task: 'reports.slow', schedule: { every: '1s' }, overlap: 'skip' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  type RunView = { id: string; state: string; startedAt: string | null; finishedAt: string | null };
  // Three runs finished, from the worker's lifecycle events as the health-api recorded them.
  const finished = await eventually('three finished runs', async () => {
    const sent = (await history(name)).fires.filter((f) => f.state === 'sent');
    const done = sent.filter((f) => f.run?.finishedAt != null);
    return done.length >= 3 && sent;
  }, 40_000);
  assert.equal((await rest('DELETE', `/api/schedules/${name}`)).status, 200);

  const sentFires = finished.slice().sort((x, y) => Date.parse(x.fireTime) - Date.parse(y.fireTime));
  const ran: RunView[] = [];
  for (const fire of sentFires) {
    const answer = await rest<RunView>('GET', `/api/tasks/${encodeURIComponent(fire.runId as string)}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    ran.push(answer.body);
  }
  const finishedRuns = ran.filter((run) => run.finishedAt !== null);
  for (const run of finishedRuns) assert.equal(run.state, 'succeeded');
  const spans = finishedRuns.map((run) => ({ id: run.id, start: Date.parse(run.startedAt as string), end: Date.parse(run.finishedAt as string) })).sort((x, y) => x.start - y.start);
  spans.slice(1).forEach((span, i) => {
    const previous = spans[i] as (typeof spans)[number];
    assert.ok(span.start >= previous.end, `run ${span.id} started at ${iso(span.start)}, before ${previous.id} finished at ${iso(previous.end)}`);
  });
  // The one that may still run started after the last finished one.
  const unfinished = ran.filter((run) => run.finishedAt === null);
  for (const run of unfinished) assert.ok(run.startedAt === null || Date.parse(run.startedAt) >= (spans.at(-1)?.end ?? 0), `run ${run.id} overlaps`);

  // Each fire time from the first run to the last is accounted for once: sent, or not sent for overlap.
  const fires = (await history(name)).fires;
  const firstFire = Date.parse((sentFires[0] as FireView).fireTime);
  const lastFire = Date.parse((sentFires.at(-1) as FireView).fireTime);
  const skipped = fireTimesIn(fires, 'overlap', 1_000).filter((at) => at > firstFire && at < lastFire);
  const sent = sentFires.map((f) => Date.parse(f.fireTime));
  assert.ok(skipped.length >= sentFires.length - 1, `at least one fire time skipped between two runs: ${skipped.length}`);
  assert.deepEqual([...sent, ...skipped].sort((x, y) => x - y).map(clock), grid(firstFire, lastFire, 1_000).map(clock), 'every fire time between the first run and the last is sent or skipped for overlap, once');
  t.diagnostic(`${sentFires.length} runs (${spans.map((s) => `${clock(s.start)}-${clock(s.end)}`).join(', ')}), ${skipped.length} fire times skipped for overlap between them`);
});
