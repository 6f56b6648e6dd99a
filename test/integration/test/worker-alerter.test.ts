import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { connect, type ChannelModel } from 'amqplib';
import { loadConfig } from '@nightshift/core';
import { Broker, brokerOptions, brokerReplayPublisher, createClient, EventPublisher, parseEvents, type Client, type LifecycleEvent } from '@nightshift/broker';
import { loadAlerterConfig, startAlerter, type Alerter } from '@nightshift/alerter';
import { quoteIdent } from '@nightshift/store';
import { createLogger, metrics } from '@nightshift/telemetry';
import { eventually, randomPrefix, requireServices, slackWebhook } from '@nightshift/test-helpers';
import { startWorker, type StartedWorker } from '@nightshift/worker';
import { flaky, unlucky } from './fixtures/app.ts';

const appPath = fileURLToPath(new URL('./fixtures/app.ts', import.meta.url));
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

let slack: Awaited<ReturnType<typeof slackWebhook>>;
let env: Record<string, string>;
let worker: StartedWorker;
let alerter: Alerter;
let client: Client;
let tap: ChannelModel;
const events: LifecycleEvent[] = [];

before(async () => {
  const { amqpUrl, databaseUrl } = await requireServices('rabbitmq', 'postgres');
  slack = await slackWebhook();
  const prefix = randomPrefix('integration');
  env = {
    NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_DATABASE_URL: databaseUrl, NIGHTSHIFT_PREFIX: prefix, NIGHTSHIFT_DATABASE_SCHEMA: prefix,
    NIGHTSHIFT_RETRY_LADDER: '100ms,1s', NIGHTSHIFT_SLACK_WEBHOOK_URL: slack.url, NIGHTSHIFT_ALERT_WINDOW: '2s',
  };
  worker = await startWorker({ appPath, concurrency: 2, grace: '2s' }, env, quiet, metrics.getMeter('integration'));
  alerter = await startAlerter({ config: loadAlerterConfig(env), logger: createLogger({ service: 'integration', level: 'silent' }), meter: metrics.getMeter('integration') });
  client = await createClient(loadConfig(env), { name: 'integration' });
  tap = await connect(amqpUrl);
  const channel = await tap.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true });
  await channel.bindQueue(queue, client.broker.names.events, 'task.#');
  await channel.consume(queue, (message) => { if (message) events.push(...parseEvents(message.content)); }, { noAck: true });
});

after(async () => {
  await worker?.stop();
  // Drop the schema while the alerter's store is still open.
  await alerter?.store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(env.NIGHTSHIFT_DATABASE_SCHEMA as string)} CASCADE`);
  await alerter?.stop();
  const cleaner = await Broker.connect(brokerOptions(loadConfig(env), 'cleanup'));
  await cleaner.ensureQueue('default');
  await cleaner.deleteTopology();
  await cleaner.close();
  await client.close();
  await tap.close();
  await slack.close();
});


const rows = async () => (await alerter.deadLetters.list({})).items;

test('a task that fails twice then succeeds: no page, no row (while a task that dies is stored and paged)', async () => {
  const flakyId = await client.send(flaky, []);
  await eventually('flaky to succeed', () => events.find((e) => e.type === 'task.succeeded' && e.id === flakyId));
  // A task that does die, sent afterwards, shows the alerter was listening all along.
  const marker = join(tmpdir(), `never-${Date.now()}`);
  const doomedId = await client.send(unlucky, [marker]);
  const stored = await eventually('the dead letter row', async () => (await rows()).find((r) => r.messageId === doomedId));
  await eventually('a page', () => (slack.messages.length > 0 ? true : undefined));
  assert.equal(stored.task, 'unlucky');
  assert.deepEqual((await rows()).map((r) => r.messageId), [doomedId], 'no row for the task that recovered');
  assert.equal(slack.messages.length, 1);
  assert.doesNotMatch(slack.messages[0]?.text ?? '', /flaky/);
  assert.ok(events.filter((e) => e.id === flakyId && e.type === 'task.retried').length === 2);
});

test('requeue of a stored dead letter runs the task again (now it succeeds) and the row shows requeued', async () => {
  const fixedBy = join(tmpdir(), `fixed-${process.pid}-${Date.now()}`);
  const id = await client.send(unlucky, [fixedBy]);
  const row = await eventually('the dead letter row', async () => (await rows()).find((r) => r.messageId === id));
  assert.equal(row.status, 'pending');
  writeFileSync(fixedBy, 'the fix shipped');
  const replayEvents = new EventPublisher(client.broker);
  await replayEvents.ready();
  const [outcome] = await alerter.deadLetters.requeue({ ids: [row.id] }, { publish: brokerReplayPublisher(client.broker, replayEvents), by: 'on-call' });
  assert.ok(outcome);
  assert.ok(await eventually('the replay\'s task.sent, with its args', () => events.find((e) => e.type === 'task.sent' && e.id === outcome.replayId && Array.isArray(e.args))));
  await replayEvents.close();
  const done = await eventually('the replay to succeed', () => events.find((e) => e.type === 'task.succeeded' && e.id === outcome.replayId))
    .finally(() => rmSync(fixedBy, { force: true }));
  assert.equal(done.result, 'fixed');
  assert.deepEqual(done.origin, { type: 'replay', deadLetterId: row.id, originalId: id });
  const after = await alerter.deadLetters.get(String(row.id));
  assert.equal(after.status, 'requeued');
});
