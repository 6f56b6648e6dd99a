// The dead man's switch against the real services, with periods shortened to seconds: beat, workers, the
// health-api (its recorder writes the task history the alerter judges from) and the alerter, paging a local Slack.
// Each entry has a queue of its own, so stopping one worker touches one entry.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadApp, loadConfig, type AnyApp } from '@nightshift/core';
import { loadAlerterConfig, startAlerter, type Alerter } from '@nightshift/alerter';
import { startBeatService } from '@nightshift/beat';
import { loadHealthApiConfig, startHealthApi, type HealthApi } from '@nightshift/health-api';
import { ScheduleHealthRecords, ScheduleRecords } from '@nightshift/store';
import { createLogger, metrics } from '@nightshift/telemetry';
import { eventually, randomPrefix, removePrefix, requireServices, slackWebhook } from '@nightshift/test-helpers';
import { startWorker, type StartedWorker } from '@nightshift/worker';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const logger = createLogger({ service: 'schedule-watch-test', level: 'silent' });
const meter = metrics.getMeter('schedule-watch-test');
const fixture = (file: string) => fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
const WATCH_INTERVAL_MS = 500;

type Slack = Awaited<ReturnType<typeof slackWebhook>>;

/** One installation under its own prefix and schema, paging its own Slack. */
async function installation(appFile: string) {
  const { amqpUrl, redisUrl, databaseUrl } = await requireServices('rabbitmq', 'redis', 'postgres');
  const slack = await slackWebhook();
  const prefix = randomPrefix('schedwatch');
  const env: Record<string, string> = {
    NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_REDIS_URL: redisUrl, NIGHTSHIFT_DATABASE_URL: databaseUrl, NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix,
    NIGHTSHIFT_SLACK_WEBHOOK_URL: slack.url, NIGHTSHIFT_SCHEDULE_WATCH_INTERVAL: `${WATCH_INTERVAL_MS}ms`, NIGHTSHIFT_SCHEDULE_FLAP_WINDOW: '60s',
    // Long enough that no summary of a streak's later dead letters arrives during a test: what is counted here are pages.
    NIGHTSHIFT_ALERT_WINDOW: '60s', NIGHTSHIFT_HEARTBEAT: '500ms', NIGHTSHIFT_HEALTH_POLL: '500ms', NIGHTSHIFT_WORKER_GRACE: '1s',
  };
  const appPath = fixture(appFile);
  const app = await loadApp(appPath);
  const started: { stop(): Promise<void> }[] = [];
  const keep = <T extends { stop(): Promise<void> }>(service: T): T => { started.push(service); return service; };
  return {
    env, slack, app, appPath,
    healthApi: () => startHealthApi({ config: loadHealthApiConfig(env), logger, meter, app, listen: false }).then(keep),
    alerter: () => startAlerter({ config: loadAlerterConfig(env), logger, meter, app, retry: { baseMs: 200, maxMs: 1_000 } }).then(keep),
    worker: (queues: string[]) => startWorker({ appPath, queues, concurrency: 1, grace: '1s' }, env, quiet, meter).then(keep),
    // With the store, as beat's main.ts starts it: runtime entries and pauses come from PostgreSQL.
    beat: () => startBeatService({ app: app as AnyApp, config: loadConfig(env), log: logger, meter, store: { url: databaseUrl, schema: prefix, applicationName: 'nightshift beat' } }).then(keep),
    async close() {
      for (const service of started.reverse()) await service.stop().catch(() => {});
      await removePrefix({ amqpUrl, redisUrl, databaseUrl }, prefix).catch(() => {});
      await slack.close();
    },
  };
}

/** The messages about `entry`, by their headline. */
const messagesOf = (slack: Slack, entry: string) => slack.messages.filter((m) => m.text.startsWith(`schedule ${entry} `) || m.text.startsWith(`schedule ${entry}:`));
const eventsOf = (slack: Slack, entry: string) => messagesOf(slack, entry).map((m) => /^schedule \S+:? (is overdue|is failing|recovered|is flapping|is steady|paused|\d+ runs? not sent)/.exec(m.text)?.[1] ?? m.text);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('with beat and workers running', () => {
  let site: Awaited<ReturnType<typeof installation>>;
  let alerter: Alerter;
  let healthApi: HealthApi;
  let watchedWorker: StartedWorker;
  let counts: string;

  before(async () => {
    counts = mkdtempSync(join(tmpdir(), 'nightshift-schedule-watch-'));
    process.env.NIGHTSHIFT_TEST_COUNTS = counts;
    site = await installation('schedule-watch-app.ts');
    healthApi = await site.healthApi();
    watchedWorker = await site.worker(['watched']);
    await site.worker(['patterned']);
    await site.beat();
    // Last, as in production where the watch finds a running schedule: started first, it would rightly page
    // watched-tick overdue if beat and the workers took longer to start than its 2 s tolerance.
    alerter = await site.alerter();
  });

  after(async () => {
    await site?.close();
    rmSync(counts, { recursive: true, force: true });
  });

  const judged = async (entry: string) => (await new ScheduleHealthRecords(alerter.store).judgements()).get(entry);

  test('the only worker of an entry\'s queue stops: exactly one overdue page naming "no worker consuming", within the tolerance plus 5 s; it comes back: exactly one recovery', async () => {
    await eventually('watched-tick to succeed', async () => (await judged('watched-tick'))?.lastSuccessAt ?? undefined, 20_000);
    assert.deepEqual(eventsOf(site.slack, 'watched-tick'), [], site.slack.messages.map((m) => m.text).join(' / '));
    await watchedWorker.stop();
    const page = await eventually('the overdue page', () => messagesOf(site.slack, 'watched-tick')[0], 20_000);
    const pagedAt = Date.now();
    assert.match(page.text, /^schedule watched-tick is overdue: no worker consuming the queue "watched"/);
    const dueBy = Date.parse(/Expected by\*\\n([0-9TZ:.-]+)/.exec(page.raw)?.[1] ?? '');
    assert.ok(Number.isFinite(dueBy), 'the page says when a success was expected');
    // Its due time includes the 2 s tolerance; the page comes within 5 s of it (plus one round of the watch).
    assert.ok(pagedAt - dueBy <= 5_000 + WATCH_INTERVAL_MS, `paged ${pagedAt - dueBy} ms after the due time`);
    process.stdout.write(`# overdue page ${pagedAt - dueBy} ms after the due time\n`);
    assert.match(page.raw, /Last success/);
    // The health-api shows what the alerter judged: the entry overdue with its cause, background work degraded.
    const background = await eventually('/health/background degraded', async () => {
      const body = (await healthApi.server.inject({ method: 'GET', url: '/health/background' })).json() as { status: string; reasons: string[] };
      return body.status === 'degraded' && body.reasons.some((r) => r.startsWith('schedule watched-tick is overdue')) ? body : undefined;
    }, 10_000);
    assert.ok(background.reasons.some((r) => /^schedule watched-tick is overdue: no worker consuming the queue "watched"/.test(r)), background.reasons.join('; '));
    const listed = (await healthApi.server.inject({ method: 'GET', url: '/api/schedules' })).json() as { entries: { name: string; health: { status: string; cause: string; dueBy: string; lastSuccess: string } | null }[] };
    const shown = listed.entries.find((e) => e.name === 'watched-tick')?.health;
    assert.equal(shown?.status, 'overdue');
    assert.match(shown?.cause ?? '', /no worker consuming/);
    assert.ok(shown?.dueBy && shown.lastSuccess, 'due by and last success are shown');

    await site.worker(['watched']);
    await eventually('the recovery', () => messagesOf(site.slack, 'watched-tick')[1], 20_000);
    await pause(3_000); // a few more rounds: nothing else is said
    assert.deepEqual(eventsOf(site.slack, 'watched-tick'), ['is overdue', 'recovered']);
    assert.equal((await judged('watched-tick'))?.status, 'healthy');
    await eventually('/health/background without it', async () => {
      const body = (await healthApi.server.inject({ method: 'GET', url: '/health/background' })).json() as { reasons: string[] };
      return body.reasons.some((r) => r.startsWith('schedule watched-tick')) ? undefined : true;
    }, 10_000);
  });

  test('a task failing three runs in a row (afterFailures 3): one page and no dead-letter page; a success: one recovery', async () => {
    await eventually('the streak page and its recovery', () => messagesOf(site.slack, 'streak')[1], 30_000);
    await pause(3_000);
    assert.deepEqual(eventsOf(site.slack, 'streak'), ['is failing', 'recovered']);
    assert.match(messagesOf(site.slack, 'streak')[0]?.text ?? '', /^schedule streak is failing: 3 runs in a row dead-lettered$/);
    assert.match(messagesOf(site.slack, 'streak')[0]?.raw ?? '', /run 3 of streak fails on purpose/, 'the page quotes the last error');
    const stored = await alerter.deadLetters.list({ task: 'sched.patterned' });
    assert.ok(stored.items.length >= 3, 'every dead letter is stored');
    assert.deepEqual(site.slack.messages.filter((m) => /failed for good/.test(m.text)).map((m) => m.text), [], 'no dead letter of these entries paged alone');
  });

  test('pauseAfterFailures 3: the alerter pauses the entry at the third dead letter in a row, the one page says so, and beat sends no more', async () => {
    const page = await eventually('the streak page', () => messagesOf(site.slack, 'doomed-nightly')[0], 30_000);
    assert.equal(page.text, 'schedule doomed-nightly is failing: 3 runs in a row dead-lettered; paused it');
    assert.match(page.raw, /the alerter paused doomed-nightly: its runs are not sent until someone resumes it/);
    const state = await new ScheduleRecords(alerter.store).stateOf('doomed-nightly');
    assert.deepEqual([state?.paused, state?.pausedBy], [true, 'nightshift alerter']);
    assert.match(state?.pausedNote ?? '', /after 3 runs in a row were dead-lettered/);
    const runs = () => Number(readFileSync(join(counts, 'doomed.count'), 'utf8'));
    await pause(1_500); // beat applies a pause within a second; a run sent just before may still run
    const atPause = runs();
    await pause(4_000);
    assert.equal(runs(), atPause, 'no run after the pause');
    assert.deepEqual(eventsOf(site.slack, 'doomed-nightly'), ['is failing'], 'one page, and the paused runs are not told again');
  });

  test('a flapping entry (fail, fail, succeed, …): a page, a recovery, one flapping message, then no storm', async () => {
    // Four rounds of the pattern at least: without the rule, that is four pages and four recoveries.
    await eventually('12 runs of flappy', () => {
      try {
        return Number(readFileSync(join(counts, 'flappy.count'), 'utf8')) >= 12 ? true : undefined;
      } catch {
        return undefined;
      }
    }, 60_000);
    await pause(3_000);
    assert.deepEqual(eventsOf(site.slack, 'flappy'), ['is failing', 'recovered', 'is flapping']);
    assert.match(messagesOf(site.slack, 'flappy')[2]?.raw ?? '', /No change pages from now on; one message follows once it has stayed healthy, or failing, for 1m/);
  });
});

describe('with no beat running', () => {
  let site: Awaited<ReturnType<typeof installation>>;

  before(async () => {
    site = await installation('beatless-app.ts');
    await site.healthApi();
  });
  after(async () => { await site?.close(); });

  test('one overdue page per entry naming no beat leader, from the alerter; a restarted alerter does not page again; beat and a worker back: one recovery each', async () => {
    const first = await site.alerter();
    await eventually('a page for each entry', () => (messagesOf(site.slack, 'ping-a').length > 0 && messagesOf(site.slack, 'ping-b').length > 0 ? true : undefined), 20_000);
    for (const entry of ['ping-a', 'ping-b']) {
      assert.match(messagesOf(site.slack, entry)[0]?.text ?? '', new RegExp(`^schedule ${entry} is overdue: no beat leader: no beat replica holds the lease`));
    }
    await first.stop();
    await site.alerter();
    await pause(2_000); // four rounds of the new alerter
    assert.deepEqual([eventsOf(site.slack, 'ping-a'), eventsOf(site.slack, 'ping-b')], [['is overdue'], ['is overdue']], 'the restart remembered the incidents');
    await site.worker(['beatless']);
    await site.beat();
    await eventually('a recovery for each entry', () => (messagesOf(site.slack, 'ping-a').length > 1 && messagesOf(site.slack, 'ping-b').length > 1 ? true : undefined), 30_000);
    await pause(2_000);
    assert.deepEqual([eventsOf(site.slack, 'ping-a'), eventsOf(site.slack, 'ping-b')], [['is overdue', 'recovered'], ['is overdue', 'recovered']]);
  });
});
