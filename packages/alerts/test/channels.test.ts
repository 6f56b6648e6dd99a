import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { createLogger } from '@nightshift/telemetry';
import { emailChannel, logChannel, pageAlert, scheduleAlert, slackChannel, summaryAlert, type PageSource } from '@nightshift/alerts';
import { slackWebhook, smtpServer } from '@nightshift/test-helpers';

const source: PageSource = {
  task: 'users.sync',
  queue: 'users',
  reason: 'failed',
  error: { name: 'AuthError', message: 'login refused for token s3cr3t-value', code: 'E_AUTH', stack: 'AuthError: login refused\n    at sync (app.ts:3:9)' },
  attempts: 3,
  worker: 'worker@host',
  args: ['42', { password: 'hunter2', apiKey: 'k-123', region: 'eu' }],
  kwargs: { dsn: 'postgres://app:pw@db/app' },
  firstFailedAt: '2026-01-01T00:00:00.000Z',
  lastFailedAt: '2026-01-01T00:01:00.000Z',
  traceId: '0af7651916cd43dd8448eb211c80319c',
};
const options = { redaction: { values: ['s3cr3t-value'] }, dashboardUrl: 'http://dash.local/', traceUrl: 'http://traces.local/trace/{traceId}' };

test('a page carries the task, error, attempts and links, and no secret', () => {
  const page = pageAlert('17', source, options);
  assert.equal(page.task, 'users.sync');
  assert.equal(page.error.message, 'login refused for token ***');
  assert.equal(page.args, '["42",{"password":"***","apiKey":"***","region":"eu"}]');
  assert.equal(page.kwargs, '{"dsn":"***"}');
  assert.deepEqual(page.links, { dashboard: 'http://dash.local/dead-letters/17', trace: 'http://traces.local/trace/0af7651916cd43dd8448eb211c80319c' });
  assert.doesNotMatch(JSON.stringify(page), /hunter2|k-123|s3cr3t-value|:pw@/);
});

test('slack: the webhook gets text and blocks; an HTTP error rejects with the status', async () => {
  const slack = await slackWebhook();
  try {
    const channel = slackChannel({ webhookUrl: slack.url });
    await channel.send(pageAlert('17', source, options), { id: '1' });
    assert.equal(slack.messages.length, 1);
    const message = slack.messages[0];
    assert.equal(message?.text, 'users.sync failed for good: AuthError');
    const body = JSON.stringify(message?.blocks);
    assert.match(body, /3 attempts/);
    assert.match(body, /<http:\/\/dash\.local\/dead-letters\/17\|Dead letter #17>/);
    assert.match(body, /<http:\/\/traces\.local\/trace\/0af7651916cd43dd8448eb211c80319c\|Trace>/);
    assert.doesNotMatch(body, /hunter2/);
    slack.status.code = 500;
    await assert.rejects(channel.send(pageAlert('18', source, options), { id: '2' }), /Slack answered HTTP 500/);
    assert.equal(slack.messages.length, 1);
  } finally {
    await slack.close();
  }
});

test('email: a real SMTP server receives the page with a stable Message-ID', async () => {
  const smtp = await smtpServer();
  const channel = emailChannel({ smtpUrl: smtp.url, from: 'nightshift@example.test', to: ['oncall@example.test', 'team@example.test'] });
  try {
    await channel.send(pageAlert('17', source, options), { id: '42' });
    await channel.send(summaryAlert({ task: 'users.sync', errorClass: 'AuthError', count: 49, total: 50, windowStartedAt: '2026-01-01T00:00:00.000Z', lastMessage: 'refused', firstDeadLetterId: '17', lastDeadLetterId: '66' }, options), { id: '43' });
    assert.equal(smtp.mails.length, 2);
    const [page, summary] = smtp.mails;
    assert.deepEqual(page?.to, ['oncall@example.test', 'team@example.test']);
    assert.match(page?.raw ?? '', /^Subject: \[nightshift\] users\.sync failed for good: AuthError/m);
    assert.match(page?.raw ?? '', /^Message-ID: <alert-42@example\.test>/m);
    assert.match(summary?.raw ?? '', /and 49 more/);
    assert.doesNotMatch(smtp.mails.map((m) => m.raw).join('\n'), /hunter2|s3cr3t-value/);
  } finally {
    await channel.close?.();
    await smtp.close();
  }
});

test('log: one line per alert, through the redacting logger', async () => {
  const lines: string[] = [];
  const destination = new Writable({ write(chunk: Buffer, _encoding, callback) { lines.push(chunk.toString('utf8')); callback(); } });
  const channel = logChannel(createLogger({ service: 'alerts-test', destination, redactValues: ['s3cr3t-value'] }));
  await channel.send(pageAlert('17', source), { id: '1' });
  assert.equal(lines.length, 1);
  const line = JSON.parse(lines[0] as string) as { level: string; msg: string };
  assert.equal(line.level, 'error');
  assert.equal(line.msg, 'users.sync failed for good: AuthError');
  assert.doesNotMatch(lines.join(''), /hunter2|s3cr3t-value/);
});

test('a schedule alert: the title names the entry and the cause; Slack, email and the log carry it with no secret', async () => {
  const alert = scheduleAlert({
    event: 'overdue', entry: 'nightly-report', task: 'reports.send', queue: 'reports', status: 'overdue',
    cause: 'the last 3 runs were dead-lettered: AuthError: login refused for token s3cr3t-value', lastSuccessAt: '2026-01-01T02:01:00.000Z',
    dueBy: '2026-01-02T02:35:00.000Z', consecutiveFailures: 3, lastError: 'AuthError: login refused for token s3cr3t-value', missed: null,
    pausedByAlerter: false, detail: 'No success of nightly-report since 2026-01-01T02:01:00.000Z; one was due by 2026-01-02T02:35:00.000Z.',
    at: '2026-01-02T02:36:00.000Z',
  }, options);
  assert.equal(alert.links.dashboard, 'http://dash.local/schedules/nightly-report');
  assert.doesNotMatch(JSON.stringify(alert), /s3cr3t-value/);
  const slack = await slackWebhook();
  const smtp = await smtpServer();
  try {
    await slackChannel({ webhookUrl: slack.url }).send(alert, { id: '1' });
    assert.equal(slack.messages[0]?.text, 'schedule nightly-report is overdue: the last 3 runs were dead-lettered: AuthError: login refused for token ***');
    assert.match(JSON.stringify(slack.messages[0]?.blocks), /Expected by.*2026-01-02T02:35:00.000Z/);
    const email = emailChannel({ smtpUrl: smtp.url, from: 'nightshift@example.test', to: ['oncall@example.test'] });
    await email.send(alert, { id: '2' });
    await email.close?.();
    assert.match(smtp.mails[0]?.raw ?? '', /^Subject: \[nightshift\] schedule nightly-report is overdue/m);
    assert.match(smtp.mails[0]?.text ?? '', /Likely cause: +the last 3 runs were dead-lettered/);
    assert.match(smtp.mails[0]?.text ?? '', /nightshift schedule history nightly-report/);
  } finally {
    await slack.close();
    await smtp.close();
  }
  const recovered = scheduleAlert({ ...alert, event: 'recovered', status: 'healthy', cause: null, consecutiveFailures: 0, detail: 'It succeeded again.' });
  const lines: string[] = [];
  const logger = createLogger({ service: 'test', level: 'info', destination: new Writable({ write(chunk, _e, done) { lines.push(String(chunk)); done(); } }) });
  await logChannel(logger).send(recovered, { id: '3' });
  assert.match(lines[0] ?? '', /"level":"warn".*schedule nightly-report recovered: it succeeded again/, 'a recovery is a warning, not an error');
});
