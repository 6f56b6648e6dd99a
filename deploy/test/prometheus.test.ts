// The scrape config and the rules pass promtool, and every rule is unit-tested both ways.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { deployPath, expectSuccess, readYaml, REPO_ROOT, run } from './tools.ts';

interface Rule { alert?: string; record?: string; expr: string; labels?: Record<string, string>; annotations?: Record<string, string> }
interface RuleFile { groups: { name: string; rules: Rule[] }[] }
interface AlertCase { alertname: string; exp_alerts?: unknown[] }
interface ExprCase { expr: string }
interface TestFile { tests: { name: string; alert_rule_test?: AlertCase[]; promql_expr_test?: ExprCase[] }[] }

const PROMETHEUS_DIR = deployPath('prometheus');
const TEST_FILES = readdirSync(deployPath('prometheus', 'tests')).filter((f) => f.endsWith('.test.yml')).map((f) => `tests/${f}`);
const rules = (file: string) => (readYaml(deployPath('prometheus', file)) as RuleFile).groups.flatMap((g) => g.rules);
const alerts = rules('alerts.yml');
const records = rules('recording.yml');
const testFiles = TEST_FILES.map((f) => readYaml(deployPath('prometheus', f)) as TestFile);

test('promtool check config accepts prometheus.yml and the rule files it names', () => {
  expectSuccess(run('promtool', ['check', 'config', 'prometheus.yml'], { cwd: PROMETHEUS_DIR }), 'promtool check config');
});

test('promtool check rules accepts the recording and alert rules', () => {
  expectSuccess(run('promtool', ['check', 'rules', 'recording.yml', 'alerts.yml'], { cwd: PROMETHEUS_DIR }), 'promtool check rules');
});

test('promtool test rules: every unit test passes', () => {
  assert.ok(TEST_FILES.length > 0, 'no tests/*.test.yml');
  expectSuccess(run('promtool', ['test', 'rules', ...TEST_FILES], { cwd: PROMETHEUS_DIR }), 'promtool test rules');
});

test('every alert is tested firing and not firing', () => {
  const cases = testFiles.flatMap((f) => f.tests.flatMap((t) => t.alert_rule_test ?? []));
  for (const { alert } of alerts) {
    const mine = cases.filter((c) => c.alertname === alert);
    assert.ok(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${alert}: no test where it fires`);
    assert.ok(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${alert}: no test where it stays quiet`);
  }
});

test('every recording rule is checked by a promql_expr_test', () => {
  const exprs = testFiles.flatMap((f) => f.tests.flatMap((t) => (t.promql_expr_test ?? []).map((c) => c.expr)));
  for (const { record } of records) assert.ok(exprs.some((e) => e.includes(record ?? '')), `${record}: not tested`);
});

test('every alert has a severity, a summary, a description and a runbook link to its entry in the README', () => {
  const readme = readFileSync(`${REPO_ROOT}/README.md`, 'utf8');
  // GitHub's anchors, which are also the ids of the entries the health-api's /runbook serves.
  const anchors = new Set([...readme.matchAll(/^#+\s+(.+)$/gm)].map((m) => githubAnchor(m[1] ?? '')));
  assert.ok(alerts.length >= 10);
  for (const rule of alerts) {
    assert.match(rule.labels?.severity ?? '', /^(critical|warning)$/, `${rule.alert}: severity`);
    assert.ok(rule.annotations?.summary, `${rule.alert}: summary`);
    assert.ok((rule.annotations?.description ?? '').includes('Look at') || (rule.annotations?.description ?? '').includes('Review'), `${rule.alert}: the description says what to look at`);
    const anchor = /^\{\{ \$externalLabels\.nightshift_runbook \}\}#(.+)$/.exec(rule.annotations?.runbook_url ?? '')?.[1];
    assert.ok(anchor && anchors.has(anchor), `${rule.alert}: runbook_url ${rule.annotations?.runbook_url} has no entry in the README's Runbook`);
  }
});

test('prometheus.yml scrapes every service and RabbitMQ per object', () => {
  const config = readYaml(deployPath('prometheus', 'prometheus.yml')) as {
    global: { external_labels: Record<string, string> }; scrape_configs: { job_name: string; metrics_path?: string }[];
  };
  const jobs = new Map(config.scrape_configs.map((c) => [c.job_name, c]));
  for (const job of ['nightshift-worker', 'nightshift-beat', 'nightshift-alerter', 'nightshift-health-api', 'rabbitmq']) assert.ok(jobs.has(job), job);
  assert.equal(jobs.get('rabbitmq')?.metrics_path, '/metrics/per-object');
  assert.match(config.global.external_labels.nightshift_runbook ?? '', /^https?:\/\/.+\/runbook$/, 'the runbook links\' base');
});

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
function githubAnchor(heading: string): string {
  return heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
}
