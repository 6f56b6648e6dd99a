import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { spawn } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { connect, type Channel, type ChannelModel, type GetMessage } from 'amqplib';
import { decode } from '@nightshift/core';
import { eventually, otlpCollector, randomPrefix, requireServices } from '@nightshift/test-helpers';
import { main } from '../src/main.ts';
import { testIo } from './test-io.ts';

const app = fileURLToPath(new URL('./fixtures/send-app.ts', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/nightshift.js', import.meta.url));
let env: Record<string, string>;
let connection: ChannelModel;
let channel: Channel;

before(async () => {
  const { amqpUrl } = await requireServices('rabbitmq');
  env = { NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_PREFIX: randomPrefix('cli-send'), NIGHTSHIFT_PUBLISH_TIMEOUT: '5s' };
  connection = await connect(amqpUrl);
  channel = await connection.createChannel();
});
after(async () => {
  const { prefix } = { prefix: env.NIGHTSHIFT_PREFIX };
  for (const queue of ['q.reports', 'dead-letters', 'retry.1s', 'retry.5s', 'retry.30s', 'retry.2m', 'retry.10m', 'retry.1h']) await channel.deleteQueue(`${prefix}.${queue}`);
  for (const exchange of ['tasks', 'retry', 'dlx', 'events', 'control']) await channel.deleteExchange(`${prefix}.${exchange}`);
  await connection.close();
});

test('nightshift send puts a confirmed task message in its queue and prints its id', async () => {
  const io = testIo({ env });
  const code = await main(['send', 'reports.generate', '--app', app, '--args', '["usage"]', '--kwargs', '{"region":"eu"}', '--json'], io);
  assert.equal(code, 0, io.stderr.text);
  const printed = JSON.parse(io.stdout.text) as { id: string; queue: string };
  assert.equal(printed.queue, 'reports');
  const message = await nextMessage();
  const decoded = decode(message.content);
  assert.ok(decoded.ok);
  assert.equal(decoded.envelope.id, printed.id);
  assert.deepEqual(decoded.envelope.args, ['usage']);
  assert.deepEqual(decoded.envelope.kwargs, { region: 'eu' });
  assert.deepEqual(decoded.envelope.origin, { type: 'producer', producer: 'cli' });
});

async function nextMessage(): Promise<GetMessage> {
  return eventually('the message in the queue', () => channel.get(`${env.NIGHTSHIFT_PREFIX}.q.reports`, { noAck: true }), 2_000, 20);
}

test('with an OTLP endpoint set, the trace begins at nightshift send: a send span, exported, whose context the message carries', async () => {
  const collector = await otlpCollector();
  try {
    const child = spawn(process.execPath, [BIN, 'send', 'reports.generate', '--app', app, '--args', '["usage"]', '--json'], {
      env: { ...process.env, ...env, OTEL_EXPORTER_OTLP_ENDPOINT: collector.url }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    const { id } = JSON.parse(stdout) as { id: string };

    const sent = collector.spans.filter((span) => span.name === 'send reports.generate');
    assert.equal(sent.length, 1, `one send span, exported before the command exited; got ${collector.spans.map((s) => s.name).join(', ') || 'none'}`);
    const span = sent[0];
    assert.equal(span?.service, 'nightshift-cli');
    assert.equal(span?.kind, 'producer');
    assert.equal(span?.attributes['nightshift.task.id'], id);
    assert.deepEqual(collector.refused, []);

    const message = await nextMessage();
    assert.equal(message.properties.messageId, id);
    assert.equal(message.properties.headers?.traceparent, `00-${span?.traceId}-${span?.spanId}-01`, 'the worker continues the send span\'s trace');
  } finally {
    await collector.close();
  }
});

test('bad input says what to do, before anything is sent', async () => {
  const notArray = testIo({ env });
  assert.equal(await main(['send', 'reports.generate', '--app', app, '--args', '{"type":"usage"}'], notArray), 2);
  assert.match(notArray.stderr.text, /^error: --args must be a JSON array\n/);
  const badJson = testIo({ env });
  assert.equal(await main(['send', 'reports.generate', '--app', app, '--args', '[usage]'], badJson), 2);
  assert.match(badJson.stderr.text, /^error: --args is not valid JSON/);
  const unknown = testIo({ env });
  assert.equal(await main(['send', 'reports.nope', '--app', app], unknown), 2);
  assert.match(unknown.stderr.text, /app "send-fixture" has no task "reports.nope"\nits tasks: reports.generate/);
});

test('a bad --countdown, --eta, --expires or --queue is named as the option, before anything connects', async () => {
  const unreachable = { ...env, NIGHTSHIFT_AMQP_URL: 'amqp://guest:guest@127.0.0.1:1' };
  const cases: Array<[string[], RegExp]> = [
    [['--countdown', 'soon'], /^error: --countdown: "soon" is not a duration \(use e\.g\. '90s'/],
    [['--eta', 'tomorrow'], /^error: --eta "tomorrow" is not a time\nwrite an ISO 8601 time/],
    [['--expires', 'never'], /^error: --expires: "never" is not a duration/],
    [['--expires', '2026-13-45T99:00:00Z'], /^error: --expires "2026-13-45T99:00:00Z" is not a time/],
    [['--countdown', '5s', '--eta', '2030-01-01T00:00:00Z'], /^error: give --countdown or --eta, not both/],
    [['--queue', 'no spaces'], /^error: --queue: "no spaces" is not a queue name/],
  ];
  for (const [options, expected] of cases) {
    const io = testIo({ env: unreachable });
    assert.equal(await main(['send', 'reports.generate', '--app', app, ...options], io), 2, options.join(' '));
    assert.match(io.stderr.text, expected, options.join(' '));
  }
});

/** A TCP server that accepts connections and never says a word: a broker that does not answer. */
async function silentBroker(): Promise<{ url: string; close(): void }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `amqp://guest:secret@127.0.0.1:${port}`,
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  };
}

test('a broker that does not answer fails loudly after the publish timeout', async () => {
  const silent = await silentBroker();
  try {
    const io = testIo({ env: { ...env, NIGHTSHIFT_AMQP_URL: silent.url, NIGHTSHIFT_PUBLISH_TIMEOUT: '1s' } });
    assert.equal(await main(['send', 'reports.generate', '--app', app, '--args', '["usage"]'], io), 1);
    assert.match(io.stderr.text, /RabbitMQ at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:\d+ did not answer within 1000ms/);
    assert.doesNotMatch(io.stderr.text, /secret/);
  } finally {
    silent.close();
  }
});

test('a refused connection fails at once, not after the publish timeout, in one line saying what to do', { timeout: 60_000 }, async () => {
  // A publish timeout far longer than the test's own: only failing on the refusal itself can pass.
  const io = testIo({ env: { ...env, NIGHTSHIFT_AMQP_URL: 'amqp://guest:secret@127.0.0.1:1', NIGHTSHIFT_PUBLISH_TIMEOUT: '10m' } });
  const started = Date.now();
  assert.equal(await main(['send', 'reports.generate', '--app', app, '--args', '["usage"]'], io), 1);
  console.log(`nightshift send on a refused port failed after ${Date.now() - started} ms`);
  assert.equal(io.stderr.text, 'error: RabbitMQ at amqp://guest:***@127.0.0.1:1 refused the connection: start RabbitMQ, or set NIGHTSHIFT_AMQP_URL to where it runs\n');
  const json = testIo({ env: { ...env, NIGHTSHIFT_AMQP_URL: 'amqp://guest:secret@127.0.0.1:1', NIGHTSHIFT_PUBLISH_TIMEOUT: '10m' } });
  assert.equal(await main(['send', 'reports.generate', '--app', app, '--json'], json), 1);
  assert.deepEqual(json.stderr.records().map((r) => (r.error as { code?: unknown } | undefined)?.code ?? r.event), ['E_BROKER_UNAVAILABLE']);
});

test('with --json, a mistake and an unreachable broker are JSON on stderr too, the wait included', async () => {
  const unknown = testIo({ env });
  assert.equal(await main(['send', 'reports.nope', '--app', app, '--json'], unknown), 2);
  assert.deepEqual(unknown.stderr.records(), [{ error: { code: 'E_USAGE', message: 'app "send-fixture" has no task "reports.nope"', hint: 'its tasks: reports.generate' } }]);

  const silent = await silentBroker();
  const shown = silent.url.replace(':secret@', ':***@');
  try {
    const io = testIo({ env: { ...env, NIGHTSHIFT_AMQP_URL: silent.url, NIGHTSHIFT_PUBLISH_TIMEOUT: '1.5s' } });
    assert.equal(await main(['send', 'reports.generate', '--app', app, '--json'], io), 1);
    const [waiting, failure, ...more] = io.stderr.records();
    assert.deepEqual(waiting, {
      event: 'waiting', message: `waiting for RabbitMQ at ${shown} (up to 1.5s; NIGHTSHIFT_PUBLISH_TIMEOUT)…`, amqpUrl: shown, timeoutMs: 1_500,
    });
    assert.equal((failure?.error as { code?: unknown } | undefined)?.code, 'E_BROKER_UNAVAILABLE');
    assert.equal((failure?.error as { message?: unknown } | undefined)?.message, `RabbitMQ at ${shown} did not answer within 1500ms; is it running? (start it, or set NIGHTSHIFT_AMQP_URL)`);
    assert.deepEqual(more, []);
    assert.doesNotMatch(io.stderr.text, /secret/);
  } finally {
    silent.close();
  }
});
