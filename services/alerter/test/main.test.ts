import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { alerterHarness, deadLetterTask, eventually } from './support.ts';
import { slackWebhook } from '@nightshift/test-helpers';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
const APP = fileURLToPath(new URL('./fixtures/app.ts', import.meta.url));

function run(env: Record<string, string>, args: string[] = []): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [MAIN, ...args], { env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: process.env.NODE_OPTIONS ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

test('main.ts as nightshift up starts it (--app given): pages, judges the app\'s schedule, serves the metrics, stops on SIGTERM', async () => {
  const slack = await slackWebhook();
  const harness = await alerterHarness();
  const alerter = run({ ...harness.env, NIGHTSHIFT_SLACK_WEBHOOK_URL: slack.url, NIGHTSHIFT_METRICS_PORT: '0', NIGHTSHIFT_LOG_LEVEL: 'info' }, ['--app', APP]);
  try {
    await eventually('the alerter to be ready', () => /"alerter ready"/.test(alerter.output()), 20_000);
    const metricsUrl = /"metrics":"([^"]+)"/.exec(alerter.output())?.[1];
    assert.ok(metricsUrl);
    await deadLetterTask(harness.producer, 'reports.generate', [{ password: 'hunter2' }], new Error('failed'));
    await deadLetterTask(harness.producer, 'reports.generate', [{ password: 'hunter2' }], new Error('failed'));
    await eventually('the page', () => slack.messages.length === 1);
    let body = '';
    await eventually('the metrics', async () => {
      body = await (await fetch(metricsUrl)).text();
      return /nightshift_alerts_sent_total\{channel="slack"/.test(body) && /nightshift_dead_letters_pending\{[^}]*\} 2/.test(body)
        && /nightshift_schedule_due_by_timestamp_seconds\{entry="daily-report"/.test(body);
    }, 15_000);
    assert.match(body, /^nightshift_dead_letters_stored_total\{task="reports\.generate",reason="failed"[^}]*\} 2$/m);
    assert.match(body, /^nightshift_alerts_sent_total\{channel="slack"[^}]*\} 1$/m);
    assert.match(body, /^nightshift_alerts_sent_total\{channel="log"[^}]*\} 1$/m);
    assert.match(body, /^nightshift_alerts_grouped_total\{channel="slack"[^}]*\} 1$/m);
    assert.match(body, /^nightshift_alert_outbox_depth\{[^}]*\} 0$/m);
    assert.match(body, /^nightshift_alert_outbox_oldest_age_seconds\{[^}]*\} 0$/m);
    // The code's entry, never run: due after its first fire time once watched, so one to two days from now.
    const dueBy = Number(/^nightshift_schedule_due_by_timestamp_seconds\{entry="daily-report"[^}]*\} (\S+)$/m.exec(body)?.[1]);
    assert.ok(dueBy > Date.now() / 1000 && dueBy < Date.now() / 1000 + 2 * 86_400, `due by ${dueBy}`);
    assert.match(body, /^nightshift_schedule_consecutive_failures\{entry="daily-report"[^}]*\} 0$/m);
    assert.match(body, /^nightshift_schedules_paused\{[^}]*\} 0$/m);
    assert.doesNotMatch(body, /nightshift_schedule_last_success_timestamp_seconds\{entry="daily-report"/, 'it never succeeded');
    alerter.child.kill('SIGTERM');
    assert.equal(await alerter.exited, 0);
    assert.match(alerter.output(), /"alerter stopped"/);
    assert.doesNotMatch(alerter.output(), /hunter2|XXXXSECRETXXXX/);
  } finally {
    alerter.child.kill('SIGKILL');
    await harness.cleanup();
    await slack.close();
  }
});

test('an app that cannot be loaded stops start-up with its path, exit code 2', async () => {
  const alerter = run({ NIGHTSHIFT_LOG_LEVEL: 'info' }, ['--app', '/nowhere/app.ts']);
  assert.equal(await alerter.exited, 2);
  assert.match(alerter.output(), /alerter: .*\/nowhere\/app\.ts/);
});

test('a bad variable stops start-up with its name', async () => {
  const alerter = run({ NIGHTSHIFT_ALERT_WINDOW: 'soon', NIGHTSHIFT_ALERT_EMAIL_TO: 'oncall@example.test' });
  assert.equal(await alerter.exited, 2);
  assert.match(alerter.output(), /NIGHTSHIFT_ALERT_WINDOW: "soon" is not a duration/);
  assert.match(alerter.output(), /NIGHTSHIFT_SMTP_URL, NIGHTSHIFT_ALERT_EMAIL_FROM: email alerts need/);
});
