import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { loadConfig } from '@nightshift/core';
import { eventually, randomPrefix, requireServices } from '@nightshift/test-helpers';
import { Broker, brokerOptions, broadcastControl, serveControl } from '@nightshift/broker';

const run = promisify(execFile);

/** A logger that keeps every line, to show that a reconnect logs nothing a person would have to act on. */
function recordingLogger(): { lines: Array<{ level: string; msg: string; obj: unknown }>; logger: Broker['log'] } {
  const lines: Array<{ level: string; msg: string; obj: unknown }> = [];
  const at = (level: string) => (obj: object | string, msg?: string) => { lines.push({ level, msg: typeof obj === 'string' ? obj : msg ?? '', obj }); };
  return { lines, logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') } };
}

/**
 * Closes this test's own connection on the local node, found by its client-provided name; nothing else is
 * touched (no stop_app: other suites share the node).
 */
async function closeOwnConnection(connectionName: string): Promise<void> {
  const { stdout } = await run('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '--no-table-headers', '--quiet'], { timeout: 60_000 });
  // One line per connection: its pid (`<rabbit@localhost.1.2.0>`), a tab, its client properties as Erlang terms.
  const own = stdout.split('\n').filter((line) => line.includes(`{"connection_name","${connectionName}"}`)).map((line) => line.split('\t')[0] as string);
  assert.equal(own.length, 1, `exactly one connection named ${connectionName}`);
  await run('rabbitmqctl', ['close_connection', own[0] as string, 'control reconnect test'], { timeout: 60_000 });
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
