// The proof: real services, a real workload, the real prometheus binary with deploy/prometheus's rules,
// and every dashboard query and every rule expression asked of it. A query that returns nothing here,
// after successes, retries, dead letters, a hard time limit kill and a beat failover, is a defect.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { buildDashboards } from '../src/index.ts';
import { panelQueries, substitute, variableQueries } from './queries.ts';
import { eventually, type Prometheus, type PromSeries } from '@nightshift/test-helpers';
import { exited, RULE_FILES, startProofPrometheus } from './stack.ts';
import { installation, type Installation } from './workload.ts';

/**
 * Rules whose expression cannot have data in a short test on this machine, why, and a query of the
 * same series without the threshold, which must have data (so the rule reads series that exist).
 */
const CANNOT_FIRE_HERE: Record<string, { why: string; signal?: string }> = {
  NightshiftNoWorkerOnline: { why: 'a worker is online throughout', signal: 'nightshift:workers_up:sum' },
  NightshiftBeatRedisDown: { why: 'Redis stays up (the test must not stop it)', signal: 'nightshift_beat_redis_up' },
  NightshiftBeatDispatchLagHigh: { why: 'dispatch lag stays far below 60s', signal: 'nightshift:beat_dispatch_lag_seconds:p99_5m' },
  NightshiftBeatMissedRuns: { why: 'expired/lost-lease/unsendable need a broker or Redis outage; the failover only coalesces', signal: 'nightshift_beat_runs_missed_total' },
  NightshiftDeadLetterQueueBacklog: { why: 'the alerter takes each dead letter off the queue at once', signal: 'rabbitmq_queue_messages_ready{queue=~".+\\\\.dead-letters"}' },
  NightshiftAlertOutboxStuck: { why: 'no alert waits 10 minutes in a 1-minute test', signal: 'nightshift_alert_outbox_oldest_age_seconds' },
  NightshiftScheduleOverdue: { why: 'the proof\'s entry keeps succeeding, and its due time is minutes ahead (time limits, retries, 5 minutes\' tolerance)', signal: 'nightshift_schedule_due_by_timestamp_seconds' },
  NightshiftTaskFailureRateHigh: { why: 'needs 10 attempts of one task in 5 minutes with over 20% failing; kept if the rate extrapolation falls short', signal: 'nightshift:task_failures:ratio_rate5m' },
};
/** Series from RabbitMQ's Prometheus plugin (port 15692; `scripts/services.sh` enables it on a local broker). */
const RABBITMQ_SERIES = /rabbitmq_|nightshift:queue_/;

const ruleFile = (file: string) => (parse(readFileSync(file, 'utf8')) as { groups: { rules: { alert?: string; record?: string; expr: string }[] }[] }).groups.flatMap((g) => g.rules);
const rules = RULE_FILES.flatMap(ruleFile);

let nightshift: Installation;
let prometheus: Prometheus | undefined;
let runSeconds = 0;
let rabbitmqPlugin = false;

before(async () => {
  const startedAt = Date.now();
  nightshift = await installation();
  const appPath = fileURLToPath(new URL('./fixtures/app.ts', import.meta.url));
  const worker = await nightshift.start('worker', ['--app', appPath, '--concurrency', '2', '--queues', 'proof']);
  const beatA = await nightshift.start('beat');
  const beatB = await nightshift.start('beat');
  const alerter = await nightshift.start('alerter');
  const healthApi = await nightshift.start('health-api');
  rabbitmqPlugin = await fetch('http://127.0.0.1:15692/metrics').then((r) => r.ok, () => false);
  // On this machine's own broker the plugin is expected (scripts/services.sh enables it); a broker elsewhere may lack it.
  if (!rabbitmqPlugin && new URL(nightshift.env.NIGHTSHIFT_AMQP_URL ?? '').hostname === '127.0.0.1') {
    throw new Error('RabbitMQ\'s prometheus plugin does not answer on 127.0.0.1:15692: run `rabbitmq-plugins enable rabbitmq_prometheus` (npm test does it in scripts/services.sh)');
  }
  prometheus = await startProofPrometheus({
    'nightshift-worker': [worker.target],
    'nightshift-beat': [beatA.target, beatB.target],
    'nightshift-alerter': [alerter.target],
    'nightshift-health-api': [healthApi.target],
    // As deploy/prometheus/prometheus.yml scrapes it: one series per queue.
    ...(rabbitmqPlugin ? { rabbitmq: { targets: ['127.0.0.1:15692'], metricsPath: '/metrics/per-object' } } : {}),
  });
  const prom = prometheus;
  const has = async (expr: string) => (await prom.query(expr)).length > 0;
  await eventually('every service scraped', async () => (await prom.query('up == 1')).length === (rabbitmqPlugin ? 6 : 5), 30_000);
  await nightshift.sendWorkload();
  // A backlog on a queue nobody consumes, growing between two of the plugin's samples (every 5 s).
  await nightshift.park(50);
  if (rabbitmqPlugin) await eventually('the parked backlog seen', () => has('nightshift:queue_messages_ready:max{queue=~".+\\\\.q\\\\.parked"} >= 50'), 30_000);
  await nightshift.park(100);
  await eventually('the workload done: 2 dead letters stored, a hard limit hit', async () =>
    (await has('nightshift_dead_letters_pending >= 2')) && (await has('nightshift_time_limit_hits_total{kind="hard"} >= 1')), 30_000);
  // The worker exports every task's counters at 0 from its start, so increase() sees the first kill too.
  // Beat failover: kill the lease holder; the other replica takes over after the lease expires and
  // reports the runs missed meanwhile. The dead target shows as up == 0 (NightshiftServiceDown).
  const [leader] = await prom.query('nightshift_beat_leader == 1');
  const leaderTarget = [beatA, beatB].find((b) => b.target === leader?.metric.instance);
  assert.ok(leaderTarget, `no beat leader: ${JSON.stringify(leader)}`);
  leaderTarget.child.kill('SIGKILL');
  await exited(leaderTarget.child);
  await eventually('the other beat replica to lead and count the missed runs', async () =>
    (await has('nightshift_beat_leader == 1')) && (await has('nightshift_beat_runs_missed_total')), 30_000);
  if (rabbitmqPlugin) await eventually('the parked backlog grown', () => has('nightshift:queue_messages_ready:max{queue=~".+\\\\.q\\\\.parked"} >= 150'), 30_000);
  await new Promise((resolve) => setTimeout(resolve, 3_000)); // a few more scrapes and rule evaluations
  runSeconds = Math.ceil((Date.now() - startedAt) / 1000) + 5;
});

after(async () => {
  await prometheus?.stop();
  await nightshift?.close();
});

/** Data at any point of the run, as a panel over the run's time range shows it. */
const seriesOver = (expr: string): Promise<PromSeries[]> => {
  if (!prometheus) throw new Error('prometheus did not start');
  const end = Date.now() / 1000;
  return prometheus.queryRange(expr, end - runSeconds, end, 1);
};

test('every panel of every dashboard shows data, with its template variables at their default, All', async () => {
  const empty: string[] = [];
  let count = 0;
  for (const [file, dashboard] of buildDashboards()) {
    const values = new Map<string, string>();
    for (const [name, [metric, label]] of variableQueries(dashboard)) {
      const series = await seriesOver(`count by (${label}) (${metric})`);
      assert.ok(series.some((s) => s.metric[label] !== undefined), `${file}: variable $${name} has no values`);
      values.set(name, '.*');
    }
    for (const query of panelQueries(dashboard)) {
      count += 1;
      const expr = substitute(query.expr, values);
      if ((await seriesOver(expr)).length === 0) empty.push(`${file} / ${query.panel}: ${expr}`);
    }
  }
  assert.ok(count >= 30, `only ${count} panel queries`);
  assert.deepEqual(empty, [], 'panels without data');
});

test('every recording rule has data (RabbitMQ-plugin rules: valid, and data wherever the plugin runs)', async () => {
  const empty: string[] = [];
  for (const rule of rules.filter((r) => r.record !== undefined)) {
    const record = rule.record ?? '';
    const [own, expr] = [await seriesOver(record), await seriesOver(rule.expr)];
    if (RABBITMQ_SERIES.test(rule.expr) && !rabbitmqPlugin) continue; // both queries ran, so both are valid
    if (own.length === 0 || expr.length === 0) empty.push(record);
  }
  assert.deepEqual(empty, [], 'recording rules without data');
});

test('every alert expression has data, or is valid and named here with why it cannot fire in this test', async () => {
  const empty: string[] = [];
  for (const rule of rules.filter((r) => r.alert !== undefined)) {
    const alert = rule.alert ?? '';
    const data = await seriesOver(rule.expr); // throws on an invalid expression
    const excuse = CANNOT_FIRE_HERE[alert];
    if (data.length > 0) continue;
    if (RABBITMQ_SERIES.test(rule.expr) && !rabbitmqPlugin) continue;
    if (!excuse) {
      empty.push(alert);
      continue;
    }
    if (excuse.signal) assert.ok((await seriesOver(excuse.signal)).length > 0, `${alert}: its series ${excuse.signal} has no data either`);
  }
  assert.deepEqual(empty, [], 'alert rules that never had data and are not explained');
});
