// Several broker URLs: the client connects to a reachable node and, when it loses it, goes to the next at once.
// The two "nodes" here are the local RabbitMQ reached directly and through a TCP proxy the test can cut; the
// cluster suite (test/cluster) does the same against a real 3-node cluster with kill -9.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '@nightshift/core';
import { startTelemetry, type Telemetry } from '@nightshift/telemetry';
import { eventually, freePort, randomPrefix, requireServices, TcpProxy } from '@nightshift/test-helpers';
import { Broker, brokerOptions, type Delivery } from '@nightshift/broker';

let telemetry: Telemetry;
before(async () => { telemetry = await startTelemetry({ service: 'broker-failover-test', metricsPort: 0, logLevel: 'silent' }); });
after(async () => { await telemetry.shutdown(); });

function withPort(url: string, port: number): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(port);
  return parsed.toString().replace(/\/$/, '');
}

test('a list of URLs: the first reachable node is used, and on its loss the next one at once; consuming and publishing resume', async () => {
  const { amqpUrl } = await requireServices('rabbitmq');
  const proxy = await TcpProxy.start(amqpUrl);
  const dead = await freePort();
  const viaProxy = withPort(amqpUrl, proxy.port);
  // A node that refuses, then the proxied node, then the direct one.
  const urls = [withPort(amqpUrl, dead), viaProxy, amqpUrl].join(',');
  const config = loadConfig({ NIGHTSHIFT_AMQP_URL: urls, NIGHTSHIFT_PREFIX: randomPrefix('failover') });
  const lines: Array<{ level: string; msg: string }> = [];
  const at = (level: string) => (obj: object | string, msg?: string) => { lines.push({ level, msg: typeof obj === 'string' ? obj : msg ?? '' }); };
  const broker = await Broker.connect(brokerOptions(config, 'broker-failover-test', { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }));
  try {
    const proxied = `127.0.0.1:${proxy.port}`;
    assert.equal(broker.node, proxied, 'the refusing node is skipped');
    const metrics = await (await fetch(telemetry.metricsUrl)).text();
    assert.ok(metrics.split('\n').some((line) => line.startsWith('nightshift_broker_node_info{') && line.includes(`node="${proxied}"`) && line.endsWith(' 1')), metrics);
    assert.ok(!metrics.includes('guest'), 'no credentials in metrics');

    const received: string[] = [];
    await broker.consume('work', (delivery: Delivery) => {
      received.push(delivery.message.content.toString());
      delivery.ack();
    });
    await broker.publisher.publish(broker.names.tasks, 'work', Buffer.from('before'));
    await eventually('the message before the loss', () => received.includes('before'));

    const generation = broker.generation;
    const cutAt = Date.now();
    await proxy.cut();
    await eventually('the failover', () => broker.generation > generation, 10_000, 5);
    const failoverMs = Date.now() - cutAt;
    console.log(`failed over from ${proxied} to ${broker.node} in ${failoverMs} ms`);
    assert.notEqual(broker.node, proxied);
    assert.match(broker.node ?? '', /:\d+$/);

    await broker.publisher.publish(broker.names.tasks, 'work', Buffer.from('after'));
    await eventually('consuming to resume on the other node', () => received.includes('after'));
    assert.ok(lines.some((line) => line.level === 'info' && line.msg === `reconnected to RabbitMQ at ${broker.node}`), 'the node in use is logged');
    assert.deepEqual(lines.filter((line) => line.level === 'error'), [], 'no error line on a failover');
    for (const line of lines) assert.doesNotMatch(line.msg, /guest:guest/, 'no password in a log line');
  } finally {
    await broker.deleteTopology().catch(() => {});
    await broker.close();
    await proxy.close();
  }
});

test('the first send to a queue while the connection is lost waits for it to come back, rather than fail on the dead channel', async () => {
  const { amqpUrl } = await requireServices('rabbitmq');
  const proxy = await TcpProxy.start(amqpUrl);
  const config = loadConfig({ NIGHTSHIFT_AMQP_URL: withPort(amqpUrl, proxy.port), NIGHTSHIFT_PREFIX: randomPrefix('failover'), NIGHTSHIFT_PUBLISH_TIMEOUT: '20s' });
  const quiet = () => {};
  const broker = await Broker.connect(brokerOptions(config, 'broker-declare-test', { debug: quiet, info: quiet, warn: quiet, error: quiet }));
  try {
    await proxy.cut();
    // Declared while no node answers: the declare is made once the connection is back.
    const declared = broker.ensureQueue('fresh').then(() => 'declared', (error: Error) => `failed: ${error.message}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await proxy.restore();
    assert.equal(await declared, 'declared');
    const raw = await Broker.connect(brokerOptions(loadConfig({ NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_PREFIX: config.prefix }), 'broker-declare-check'));
    try {
      const { messageCount } = await raw.withChannel((channel) => channel.checkQueue(broker.names.queue('fresh')));
      assert.equal(messageCount, 0, 'the queue exists on the broker');
    } finally {
      await raw.close();
    }
  } finally {
    await broker.deleteTopology().catch(() => {});
    await broker.close();
    await proxy.close();
  }
});
