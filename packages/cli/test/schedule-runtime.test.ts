import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { connect, type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { decode, type TaskEnvelope } from '@nightshift/core';
import { runId } from '@nightshift/beat-state';
import { loadHealthApiConfig, startHealthApi, type HealthApi } from '@nightshift/health-api';
import { loadApp, loadConfig } from '@nightshift/core';
import { Broker, brokerOptions } from '@nightshift/broker';
import { createLogger, metrics } from '@nightshift/telemetry';
import { eventually, randomPrefix, removePrefix, requireServices, type ServiceUrls } from '@nightshift/test-helpers';
import { main } from '../src/main.ts';
import { testIo } from './test-io.ts';

// Every schedule action through `nightshift schedule`, on the real PostgreSQL, Redis and RabbitMQ. A health-api
// runs beside it for its history recorder: the fires an action sends are recorded from their events, as in production.

const APP = fileURLToPath(new URL('./fixtures/runtime-schedule-app.ts', import.meta.url));
const HOUR = 3_600_000;
let urls: ServiceUrls;
let env: Record<string, string>;
let connection: ChannelModel;
let channel: Channel;
let api: HealthApi;

const run = async (argv: string[], options: { answers?: string[]; tty?: boolean; user?: string } = {}) => {
  const io = testIo({ env: { ...env, USER: options.user ?? 'ana' }, ...(options.answers ? { answers: options.answers } : {}), ...(options.tty ? { tty: true } : {}) });
  const code = await main(['schedule', ...argv, '--app', APP], io);
  return { code, io, out: io.stdout.text, err: io.stderr.text };
};

before(async () => {
  urls = await requireServices('rabbitmq', 'postgres', 'redis');
  const prefix = randomPrefix('cli-sched');
  env = {
    NIGHTSHIFT_AMQP_URL: urls.amqpUrl, NIGHTSHIFT_DATABASE_URL: urls.databaseUrl, NIGHTSHIFT_REDIS_URL: urls.redisUrl,
    NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix, NIGHTSHIFT_PUBLISH_TIMEOUT: '5s', NIGHTSHIFT_HTTP_PORT: '0',
  };
  // The health-api migrates the store and records the fires' events.
  api = await startHealthApi({
    config: loadHealthApiConfig(env), logger: createLogger({ service: 'cli-schedule-test', level: 'silent' }), meter: metrics.getMeter('cli-schedule-test'),
    app: await loadApp(APP), listen: false,
  });
  // The queue the runs go to, declared as a producer declares it, so that the test can read it before any send.
  const broker = await Broker.connect(brokerOptions(loadConfig(env), 'cli-schedule-test'));
  await broker.ensureQueue('reports');
  await broker.close();
  connection = await connect(urls.amqpUrl);
  channel = await connection.createChannel();
});
after(async () => {
  await api?.stop();
  await connection?.close();
  await removePrefix(urls, env.NIGHTSHIFT_PREFIX as string);
});

/** The task messages waiting in the reports queue, taken off it. */
async function takeMessages(): Promise<TaskEnvelope[]> {
  const taken: TaskEnvelope[] = [];
  for (let message: GetMessage | false; (message = await channel.get(`${env.NIGHTSHIFT_PREFIX}.q.reports`, { noAck: true }));) {
    const decoded = decode(message.content);
    assert.ok(decoded.ok, 'a valid task message');
    taken.push(decoded.envelope);
  }
  return taken;
}

test('create, then list and show it beside the code\'s entry; --json prints the same entries', async () => {
  const created = await run(['create', '--name', 'eu-report', '--task', 'reports.generate', '--cron', '0 9 * * mon-fri', '--timezone', 'America/New_York',
    '--args', '["eu"]', '--jitter', '30s', '--overlap', 'skip', '--note', 'for the EU partners']);
  assert.equal(created.code, 0, created.err);
  assert.match(created.out, /^created "eu-report"; beat applies it within a second\neu-report → reports\.generate\("eu"\) {2}\(runtime, version 1\)\n/);
  assert.match(created.out, /\n {2}zone: +America\/New_York\n/);
  assert.match(created.out, /\n {2}created: +by ana at \d{4}-/);

  const list = await run(['list']);
  assert.equal(list.code, 0, list.err);
  const [header, ...rows] = list.io.stdout.lines();
  assert.match(header ?? '', /^NAME\s+SOURCE\s+TASK\s+SCHEDULE\s+ZONE\s+STATE\s+NEXT RUN$/);
  assert.deepEqual(rows.map((row) => row.split(/\s{2,}/).slice(0, 2)), [['nightly', 'code'], ['eu-report', 'runtime']]);
  assert.match(rows[1] ?? '', /'0 9 \* \* mon-fri'\s+America\/New_York\s+running\s+\d{4}-\d\d-\d\d 1[34]:00:00Z$/);

  const json = await run(['list', '--json']);
  const entries = json.io.stdout.records();
  assert.deepEqual(entries.map((entry) => [entry.name, entry.source, entry.timezone]), [['nightly', 'code', 'Europe/Berlin'], ['eu-report', 'runtime', 'America/New_York']]);
  const shown = await run(['show', 'eu-report', '--json']);
  assert.deepEqual(shown.io.stdout.records()[0], entries[1]);
});

test('a bad entry is refused naming what to fix, and nothing is stored', async () => {
  const cases: [string[], RegExp, RegExp][] = [
    [['--name', 'bad', '--task', 'reports.generate', '--cron', '0 0 30 feb *'], /day 30 never occurs in February/, /fix --cron or --every; nothing was stored/],
    [['--name', 'bad', '--task', 'reports.generate', '--cron', '0 9 * * *', '--timezone', 'Mars/Olympus'], /Mars\/Olympus/, /fix --timezone/],
    [['--name', 'bad', '--task', 'reports.nope', '--every', '5m'], /"reports\.nope" is not one of the app's tasks/, /fix --task/],
    [['--name', 'nightly', '--task', 'reports.generate', '--every', '5m'], /"nightly" already exists in the app's code/, /another --name/],
    [['--name', 'bad', '--task', 'reports.generate', '--every', '5m', '--args', '{"a":1}'], /--args must be a JSON array/, /e\.g\./],
    [['--name', 'bad', '--task', 'reports.generate'], /needs --cron or --every/, /e\.g\./],
  ];
  for (const [argv, message, hint] of cases) {
    const refused = await run(['create', ...argv]);
    assert.equal(refused.code, 2, argv.join(' '));
    assert.match(refused.err, message, argv.join(' '));
    assert.match(refused.err, hint, argv.join(' '));
  }
  const json = await run(['create', '--name', 'bad', '--task', 'reports.generate', '--cron', '0 0 30 feb *', '--json']);
  assert.equal((json.io.stderr.records()[0]?.error as { code?: string }).code, 'E_CONFIG');
  const list = await run(['list', '--json']);
  assert.ok(!list.io.stdout.records().some((entry) => entry.name === 'bad'), 'nothing stored');
});

test('update changes the options given; a stale --version is a conflict that changes nothing and says what to do', async () => {
  const updated = await run(['update', 'eu-report', '--cron', '30 9 * * mon-fri', '--jitter', 'none'], { user: 'ben' });
  assert.equal(updated.code, 0, updated.err);
  assert.match(updated.out, /^updated "eu-report" to version 2;/);
  const shown = (await run(['show', 'eu-report', '--json'])).io.stdout.records()[0] as Record<string, unknown>;
  assert.deepEqual([shown.schedule, shown.jitter, shown.args, shown.updatedBy, shown.createdBy, shown.version], ['30 9 * * mon-fri', null, ['eu'], 'ben', 'ana', 2]);

  const stale = await run(['update', 'eu-report', '--every', '10m', '--version', '1']);
  assert.equal(stale.code, 2);
  assert.match(stale.err, /^error: schedule entry "eu-report" was changed by someone else: it is at version 2, the change was made against version 1/);
  assert.match(stale.err, /\nnothing was changed; nightshift schedule show eu-report --app .* shows it as it is now \(version 2\)/);
  const json = await run(['update', 'eu-report', '--every', '10m', '--version', '1', '--json']);
  assert.equal((json.io.stderr.records()[0]?.error as { code?: string }).code, 'E_SCHEDULE_CONFLICT');
  assert.equal(((await run(['show', 'eu-report', '--json'])).io.stdout.records()[0] as { schedule: unknown }).schedule, '30 9 * * mon-fri', 'unchanged');

  const inCode = await run(['update', 'nightly', '--cron', '0 3 * * *']);
  assert.equal(inCode.code, 2);
  assert.match(inCode.err, /defined in the app's code/);
  const nothing = await run(['update', 'eu-report']);
  assert.match(nothing.err, /changes nothing: give the options to change/);
});

test('pause with a note, then resume: list and show say who, when and why', async () => {
  const paused = await run(['pause', 'nightly', '--note', 'partner API down, INC-142']);
  assert.equal(paused.code, 0, paused.err);
  assert.match(paused.out, /^paused "nightly" \(partner API down, INC-142\): runs that fall due are not sent/);
  const list = await run(['list']);
  assert.match(list.out, /\nnightly\s+code\s+.*paused by ana\s+-\n/);
  const show = await run(['show', 'nightly']);
  assert.match(show.out, /\n {2}state: +paused by ana at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \("partner API down, INC-142"\)\n/);
  assert.match(show.out, /next fire times \(Europe\/Berlin, then UTC\), not sent while paused:/);

  const resumed = await run(['resume', 'nightly', '--json']);
  assert.equal(resumed.code, 0, resumed.err);
  assert.equal(resumed.io.stdout.records()[0]?.paused, null);
  assert.match((await run(['show', 'nightly'])).out, /\n {2}state: +running\n/);
  const unknown = await run(['pause', 'nope']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.err, /no schedule entry "nope".*\nnightshift schedule list --app .* shows the entries there are\n$/);
});

test('run-now sends one run, claimed like beat\'s, with origin manual and who', async () => {
  await takeMessages();
  const sent = await run(['run-now', 'nightly', '--json']);
  assert.equal(sent.code, 0, sent.err);
  const { id } = sent.io.stdout.records()[0] as { id: string };
  const messages = await eventually('the run in its queue', async () => {
    const taken = await takeMessages();
    return taken.length > 0 ? taken : undefined;
  }, 5_000, 50);
  assert.equal(messages.length, 1, 'one message');
  const [envelope] = messages as [TaskEnvelope];
  assert.equal(envelope.id, id);
  assert.match(id, /^beat:nightly:\d{4}-/, 'the id beat would give that fire time');
  assert.deepEqual(envelope.args, ['users']);
  assert.deepEqual({ type: envelope.origin.type, by: (envelope.origin as { by?: string }).by }, { type: 'manual', by: 'ana' });
});

test('backfill sends each past fire time once, oldest first, and says how many were there already; history shows them', async () => {
  assert.equal((await run(['create', '--name', 'hourly', '--task', 'reports.generate', '--every', '1h', '--args', '["hourly"]'])).code, 0);
  await takeMessages();
  const hour = Math.floor(Date.now() / HOUR) * HOUR;
  const iso = (ms: number) => new Date(ms).toISOString();
  const first = await run(['backfill', 'hourly', '--from', iso(hour - 4 * HOUR), '--to', iso(hour - 2 * HOUR)], { tty: true });
  assert.equal(first.code, 0, first.err);
  assert.match(first.out, /: 3 fire times, 3 sent, 0 already there\n$/);
  assert.match(first.err, /\rbackfill hourly: 3 of 3 fire times \(3 sent, 0 already there\)\n$/, 'progress on a terminal');

  const again = await run(['backfill', 'hourly', '--from', iso(hour - 5 * HOUR), '--to', iso(hour - HOUR), '--json']);
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(again.io.stdout.records()[0], { name: 'hourly', from: iso(hour - 5 * HOUR), to: iso(hour - HOUR), fireTimes: 5, sent: 2, alreadyThere: 3 });
  assert.equal(again.err, '', 'no progress line off a terminal');

  const ids = (await eventually('the five runs in the queue', async () => {
    const taken = await takeMessages();
    return taken.length > 0 ? taken : undefined;
  }, 5_000, 50)).map((envelope) => envelope.id);
  const expected = [4, 3, 2, 5, 1].map((hours) => runId('hourly', hour - hours * HOUR));
  for (let more = await takeMessages(); more.length > 0; more = await takeMessages()) ids.push(...more.map((envelope) => envelope.id));
  assert.deepEqual(ids.sort(), expected.sort(), 'each fire time once, under beat\'s id');

  const history = await eventually('the five fires in the history', async () => {
    const shown = await run(['history', 'hourly', '--json']);
    const fires = shown.io.stdout.records().slice(1);
    return fires.length === 5 ? shown : undefined;
  }, 10_000, 100);
  const [head, ...fires] = history.io.stdout.records();
  assert.equal((head?.next as string[]).length > 0, true);
  assert.deepEqual(fires.map((fire) => [fire.fireTime, fire.origin, fire.state, fire.by]), [1, 2, 3, 4, 5].map((hours) => [iso(hour - hours * HOUR), 'backfill', 'sent', 'ana']), 'newest first');
  const text = await run(['history', 'hourly', '--limit', '2']);
  assert.match(text.out, /^hourly: next fire times /);
  assert.match(text.out, /\nFIRE TIME\s+ORIGIN\s+FATE\s+RUN\s+LATE\s+OUTCOME\s+RUNTIME\s+BY\n/);
  assert.match(text.out, /\nmore: nightshift schedule history hourly --app .* --before \S+\n$/);
  const refused = await run(['backfill', 'hourly', '--from', iso(hour), '--to', iso(hour - HOUR)]);
  assert.match(refused.err, /--to is before --from/);
});

test('Ctrl-C stops a backfill between two fire times; run again, it sends the rest and counts what was sent', async () => {
  assert.equal((await run(['create', '--name', 'slow', '--task', 'reports.generate', '--every', '1m'])).code, 0);
  const minute = Math.floor(Date.now() / 60_000) * 60_000;
  const range = ['--from', new Date(minute - 10 * 60_000).toISOString(), '--to', new Date(minute - 6 * 60_000).toISOString()];
  const io = testIo({ env: { ...env, USER: 'ana' }, tty: true });
  const running = main(['schedule', 'backfill', 'slow', ...range, '--rate', '2', '--app', APP], io);
  await io.stderr.waitFor(/1 of 5 fire times/);
  io.interrupt('SIGINT');
  assert.equal(await running, 1);
  assert.match(io.stderr.text, /\nerror: backfill of "slow" stopped: [12] sent; run it again to send the rest \(what was sent is not sent again\)\n$/);
  const stoppedAfter = Number(/stopped: (\d) sent/.exec(io.stderr.text)?.[1]);
  const again = await run(['backfill', 'slow', ...range, '--rate', '100', '--json']);
  assert.equal(again.code, 0, again.err);
  assert.deepEqual(again.io.stdout.records()[0]?.alreadyThere, stoppedAfter);
  assert.equal(again.io.stdout.records()[0]?.sent, 5 - stoppedAfter);
  await takeMessages();
});

test('pause, resume and list work while RabbitMQ is down; run-now says it cannot reach it', async () => {
  const down = { NIGHTSHIFT_AMQP_URL: 'amqp://guest:s3cret@127.0.0.1:1' };
  const io = () => testIo({ env: { ...env, ...down, USER: 'ana' } });
  for (const argv of [['pause', 'nightly', '--note', 'broker maintenance'], ['list'], ['resume', 'nightly']]) {
    const done = io();
    assert.equal(await main(['schedule', ...argv, '--app', APP], done), 0, `${argv.join(' ')}: ${done.stderr.text}`);
  }
  const refused = io();
  assert.equal(await main(['schedule', 'run-now', 'nightly', '--app', APP], refused), 1);
  assert.match(refused.stderr.text, /^error: RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1 refused the connection/);
  assert.doesNotMatch(refused.stderr.text, /s3cret/);
});

test('remove asks first: refused without a terminal, kept on no, removed on yes or with --yes', async () => {
  const noTerminal = await run(['remove', 'eu-report']);
  assert.equal(noTerminal.code, 2);
  assert.match(noTerminal.err, /asks before removing, and nobody is at a terminal to answer\nadd --yes to remove it without asking \(nothing was removed\)\n$/);
  const no = await run(['remove', 'eu-report'], { answers: ['n'] });
  assert.equal(no.code, 1);
  assert.match(no.err, /^remove the schedule entry "eu-report" \(reports\.generate, .*; version 2\)\? No further runs will be sent\. \[y\/N\] n\n$/);
  assert.equal(no.out, 'nothing removed\n');
  assert.equal((await run(['show', 'eu-report'])).code, 0, 'still there');
  const yes = await run(['remove', 'eu-report'], { answers: ['y'] });
  assert.equal(yes.code, 0, yes.err);
  assert.equal(yes.out, 'removed "eu-report"; beat sends no further runs of it\n');
  assert.equal((await run(['show', 'eu-report'])).code, 2, 'gone');
  const scripted = await run(['remove', 'hourly', '--yes', '--json']);
  assert.equal(scripted.code, 0, scripted.err);
  assert.deepEqual(scripted.io.stdout.records(), [{ name: 'hourly', removed: true, version: 1 }]);
  const inCode = await run(['remove', 'nightly', '--yes']);
  assert.match(inCode.err, /defined in the app's code/);
});
