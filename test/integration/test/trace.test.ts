// One task that fails for good, followed across processes as the trace store sees it: the test sends it (and
// exports its spans), the worker and the alerter run as their own processes exporting over OTLP/HTTP to a
// collector in this process, and Slack, email and the dashboard must all link to that one trace.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@nightshift/core';
import { Broker, brokerOptions, createClient, type Client } from '@nightshift/broker';
import { historyQueueName, loadHealthApiConfig, startHealthApi, type HealthApi } from '@nightshift/health-api';
import { quoteIdent, Store } from '@nightshift/store';
import { startTelemetry, type Telemetry } from '@nightshift/telemetry';
import { eventually, otlpCollector, randomPrefix, requireServices, slackWebhook, smtpServer, type CollectedSpan } from '@nightshift/test-helpers';
import { doomed } from './fixtures/app.ts';

const appPath = fileURLToPath(new URL('./fixtures/app.ts', import.meta.url));
const TRACE_URL = 'http://jaeger.test:16686/trace/{traceId}';
const SECRET_ARG = 'customer-4711-do-not-trace';

/** A service run as `node services/<name>/src/main.ts`, the way `nightshift <name>` runs it. */
interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly output: () => string;
  /** Whether it logged that it is ready. */
  readonly ready: () => boolean;
  readonly exited: Promise<number | null>;
}

let collector: Awaited<ReturnType<typeof otlpCollector>>;
let slack: Awaited<ReturnType<typeof slackWebhook>>;
let smtp: Awaited<ReturnType<typeof smtpServer>>;
let env: Record<string, string>;
let telemetry: Telemetry;
let healthApi: HealthApi;
let client: Client;
const services: ServiceProcess[] = [];

before(async () => {
  const { amqpUrl, databaseUrl } = await requireServices('rabbitmq', 'postgres');
  [collector, slack, smtp] = await Promise.all([otlpCollector(), slackWebhook(), smtpServer()]);
  const prefix = randomPrefix('trace');
  env = {
    NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_DATABASE_URL: databaseUrl, NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix,
    NIGHTSHIFT_RETRY_LADDER: '100ms,1s', NIGHTSHIFT_METRICS_PORT: '0', NIGHTSHIFT_LOG_LEVEL: 'info', NIGHTSHIFT_WORKER_GRACE: '2s',
    NIGHTSHIFT_SLACK_WEBHOOK_URL: slack.url, NIGHTSHIFT_SMTP_URL: smtp.url,
    NIGHTSHIFT_ALERT_EMAIL_FROM: 'nightshift@example.test', NIGHTSHIFT_ALERT_EMAIL_TO: 'oncall@example.test',
    NIGHTSHIFT_TRACE_URL: TRACE_URL,
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
  };
  // This process is the producer: its `send` span starts the trace. Telemetry starts once per process, which
  // is why the worker and the alerter run as processes of their own.
  process.env.OTEL_EXPORTER_OTLP_ENDPOINT = collector.url;
  telemetry = await startTelemetry({ service: 'trace-test', metricsPort: 0, logLevel: 'silent' });
  healthApi = await startHealthApi({ config: loadHealthApiConfig(env), logger: telemetry.logger, meter: telemetry.meter, listen: false });
  services.push(startService('alerter', [], /"alerter ready"/), startService('worker', ['--app', appPath, '--concurrency', '1'], /"worker ready"/));
  await Promise.all(services.map((service) => eventually(`${service.name} to be ready`, () => {
    if (service.child.exitCode !== null) throw new Error(`${service.name} exited at start-up:\n${service.output()}`);
    return service.ready() ? true : undefined;
  }, 30_000)));
  client = await createClient(loadConfig(env), { name: 'trace-test' });
});

after(async () => {
  for (const service of services) service.child.kill('SIGKILL'); // a failed test may leave them running
  await client?.close();
  await healthApi?.stop();
  await telemetry?.shutdown();
  delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (env !== undefined) {
    const config = loadConfig(env);
    const cleaner = await Broker.connect(brokerOptions(config, 'cleanup'));
    await cleaner.withChannel(async (channel) => { await channel.deleteQueue(historyQueueName(cleaner)); });
    await cleaner.ensureQueue(doomed.queue ?? 'default');
    await cleaner.deleteTopology();
    await cleaner.close();
    const store = new Store({ url: config.databaseUrl, schema: env.NIGHTSHIFT_DATABASE_SCHEMA as string });
    await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(store.schema)} CASCADE`);
    await store.close();
  }
  await Promise.all([collector?.close(), slack?.close(), smtp?.close()]);
});

test('send → attempt → retry → attempt → dead letter → store → page is one trace; Slack, email and the dashboard link to it', async () => {
  const id = await client.send(doomed, [SECRET_ARG]);
  await eventually('the page on Slack and by email', () => (slack.messages.length > 0 && smtp.mails.length > 0 ? true : undefined));
  const run = await eventually('the task history to show the dead letter', async () => {
    const response = await healthApi.server.inject({ method: 'GET', url: `/api/tasks/${id}` });
    const body = response.statusCode === 200 ? response.json() as { state: string; traceUrl: string | null } : undefined;
    return body?.state === 'dead-lettered' ? body : undefined;
  });
  // SIGTERM: each service stops gracefully and exports the spans it still holds before it exits.
  for (const service of services) service.child.kill('SIGTERM');
  for (const service of services) assert.equal(await service.exited, 0, `${service.name} stops cleanly:\n${service.output()}`);
  await telemetry.shutdown();
  assert.deepEqual(collector.refused, [], 'every export was OTLP/HTTP JSON');

  const send = only(collector.spans.filter((s) => s.name === 'send doomed' && s.attributes['nightshift.task.id'] === id), 'send doomed');
  const traceId = send.traceId;
  const inTrace = collector.spans.filter((s) => s.traceId === traceId);
  const span = (name: string, where: (s: CollectedSpan) => boolean = () => true) => only(inTrace.filter((s) => s.name === name && where(s)), name);
  const [attempt1, attempt2] = [1, 2].map((n) => span('process doomed', (s) => s.attributes['nightshift.attempt'] === n)) as [CollectedSpan, CollectedSpan];
  const retry = span('retry doomed');
  const deadLetter = span('dead-letter doomed');
  const store = span('store doomed');
  const pages = ['alert email', 'alert log', 'alert slack'].map((name) => span(name));

  assert.deepEqual(
    inTrace.map((s) => s.name).sort(),
    ['alert email', 'alert log', 'alert slack', 'dead-letter doomed', 'process doomed', 'process doomed', 'retry doomed', 'send doomed', 'store doomed'],
    'the trace holds these spans and no others',
  );
  assert.deepEqual(collector.spans.filter((s) => s.attributes['nightshift.task.id'] === id && s.traceId !== traceId).map((s) => s.name), [], 'no span of the task is in another trace');

  // The parent chain, link by link.
  assert.equal(send.parentSpanId, undefined, 'the send is the root: nothing was active when the test sent it');
  const chain: [CollectedSpan, CollectedSpan, string][] = [
    [attempt1, send, 'attempt 1 is a child of the send'],
    [retry, attempt1, 'the retry is a child of attempt 1'],
    [attempt2, retry, 'attempt 2 is a child of the retry'],
    [deadLetter, attempt2, 'the dead letter is a child of attempt 2'],
    [store, deadLetter, 'the alerter\'s store span is a child of the dead letter'],
    ...pages.map((page): [CollectedSpan, CollectedSpan, string] => [page, store, `${page.name} is a child of the store span`]),
  ];
  for (const [child, parent, what] of chain) assert.equal(child.parentSpanId, parent.spanId, what);

  // Who made each span, and what kind it is.
  assert.deepEqual(
    [send, attempt1, retry, attempt2, deadLetter, store, ...pages].map((s) => `${s.service}:${s.kind}`),
    ['trace-test:producer', 'worker:consumer', 'worker:producer', 'worker:consumer', 'worker:producer', 'alerter:consumer', 'alerter:client', 'alerter:client', 'alerter:client'],
  );

  // What the on-call reads on them: task, id, attempt, queue, reason; never the args.
  for (const s of [send, attempt1, retry, attempt2, deadLetter, store]) {
    assert.equal(s.attributes['nightshift.task'], 'doomed', `${s.name}: task`);
    assert.equal(s.attributes['nightshift.task.id'], id, `${s.name}: task id`);
    assert.equal(s.attributes['nightshift.queue'], 'default', `${s.name}: queue`);
    assert.equal(s.attributes['messaging.system.name'], 'rabbitmq', `${s.name}: messaging system`);
  }
  assert.deepEqual([attempt1, attempt2].map((s) => [s.attributes['nightshift.outcome'], s.attributes['error.type'], s.status]), [['retried', 'DiskFull', 'error'], ['dead_lettered', 'DiskFull', 'error']]);
  assert.deepEqual([retry.attributes['nightshift.attempt'], retry.attributes['nightshift.retry.next_attempt'], retry.attributes['nightshift.retry.delay_ms']], [1, 2, 100]);
  assert.deepEqual([deadLetter.attributes['nightshift.dead_letter.reason'], deadLetter.attributes['nightshift.attempt'], deadLetter.attributes['nightshift.error.type']], ['failed', 2, 'DiskFull']);
  assert.deepEqual([store.attributes['nightshift.dead_letter.reason'], store.attributes['nightshift.alert.outcome']], ['failed', 'paged']);
  for (const page of pages) assert.equal(page.attributes['nightshift.dead_letter.id'], store.attributes['nightshift.dead_letter.id'], `${page.name}: the dead letter it pages`);
  assert.ok(!JSON.stringify(collector.spans).includes(SECRET_ARG), 'no span carries the task\'s args');

  // Slack, email and the dashboard link to this trace.
  const link = TRACE_URL.replace('{traceId}', traceId);
  assert.ok(slack.messages[0]?.raw.includes(`<${link}|Trace>`), `the Slack message links to the trace: ${slack.messages[0]?.raw}`);
  assert.ok(smtp.mails[0]?.text.includes(`Trace:     ${link}`), `the email links to the trace: ${smtp.mails[0]?.text}`);
  assert.equal(run.traceUrl, link, 'the dashboard\'s task detail links to the trace');
});

function startService(name: 'worker' | 'alerter', args: string[], ready: RegExp): ServiceProcess {
  const main = fileURLToPath(new URL('./main.ts', import.meta.resolve(`@nightshift/${name}`)));
  const child = spawn(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? '', NODE_OPTIONS: process.env.NODE_OPTIONS ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { name, child, output: () => output, ready: () => ready.test(output), exited };
}


function only(spans: CollectedSpan[], what: string): CollectedSpan {
  assert.equal(spans.length, 1, `exactly one ${what} span; the collector has: ${collector.spans.map((s) => `${s.service}/${s.name}`).join(', ')}`);
  return spans[0] as CollectedSpan;
}
