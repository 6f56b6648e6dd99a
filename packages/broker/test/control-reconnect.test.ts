import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { loadConfig } from '@nightshift/core';
import { closeConnections, connectionsNamed, eventually, randomPrefix, requireServices } from '@nightshift/test-helpers';
import { Broker, brokerOptions, broadcastControl, serveControl } from '@nightshift/broker';

/** A logger that keeps every line, to show that a reconnect logs nothing a person would have to act on. */
function recordingLogger(): { lines: Array<{ level: string; msg: string; obj: unknown }>; logger: Broker['log'] } {
  const lines: Array<{ level: string; msg: string; obj: unknown }> = [];
  const at = (level: string) => (obj: object | string, msg?: string) => { lines.push({ level, msg: typeof obj === 'string' ? obj : msg ?? '', obj }); };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

/**
 * Closes this test's own connection on the local node, found by its client-provided name, through the
 * management API (as `rabbitmqctl close_connection` would, without its seconds of start-up each time); nothing
 * else is touched (no stop_app: other suites share the node).
 */
async function closeOwnConnection(connectionName: string): Promise<void> {
  const own = await connectionsNamed(connectionName);
  assert.equal(own.length, 1, `exactly one connection named ${connectionName}`);
  await closeConnections(own, 'control reconnect test');
}

test('a reconnect logs no error: the control queue is declared before consuming resumes, and control answers again', async () => {
  const { amqpUrl } = await requireServices('rabbitmq');
  const config = loadConfig({ NIGHTSHIFT_AMQP_URL: amqpUrl, NIGHTSHIFT_PREFIX: randomPrefix('ctlre') });
  const name = `nightshift control-reconnect ${randomUUID().slice(0, 8)}`;
  const { lines, logger } = recordingLogger();
  const broker = await Broker.connect({ ...brokerOptions(config, name, logger) });
  const asker = await Broker.connect(brokerOptions(config, `${name} asker`));
  try {
    await serveControl(broker, 'w1', (request) => (request.command === 'ping' ? 'pong' : undefined));
    assert.deepEqual((await broadcastControl(asker, 'ping', {}, { limit: 1 })).map((r) => r.reply), ['pong']);

    for (let round = 1; round <= 3; round++) {
      const generation = broker.generation;
      await closeOwnConnection(name);
      await eventually('the broker to reconnect', () => broker.generation > generation, 30_000);
      await eventually('control to answer after the reconnect', async () => (await broadcastControl(asker, 'ping', {}, { limit: 1, timeoutMs: 500 })).length === 1, 15_000);
    }
    const errors = lines.filter((line) => line.level === 'error');
    assert.deepEqual(errors.map((line) => line.msg), [], 'no ERROR line across reconnects');
    assert.ok(lines.some((line) => line.level === 'warn' && /lost the RabbitMQ connection/.test(line.msg)), 'the loss itself is logged, as a warning');
  } finally {
    await broker.deleteTopology().catch(() => {});
    await Promise.all([broker.close(), asker.close()]);
  }
});
