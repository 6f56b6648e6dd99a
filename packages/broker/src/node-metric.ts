import { metrics, ValueType } from '@nightshift/telemetry';
import type { Broker } from './broker.ts';

const live = new Set<Broker>();
let registered = false;

/**
 * Exports which RabbitMQ node each broker connection of this process uses:
 * `nightshift_broker_node_info{node="host:port",connection}` = 1 while connected there (no series while down).
 * Registered on the first connection, once the process's meter provider is set up.
 */
export function watchBrokerNode(broker: Broker): void {
  live.add(broker);
  broker.once('closed', () => live.delete(broker));
  if (registered) return;
  registered = true;
  metrics.getMeter('@nightshift/broker')
    .createObservableGauge('nightshift.broker.node.info', { description: 'The RabbitMQ node (host:port) a broker connection of this process uses: 1 while connected to it.', valueType: ValueType.INT })
    .addCallback((result) => {
      for (const each of live) {
        const node = each.node;
        if (node !== undefined) result.observe(1, { node, connection: each.options.connectionName });
      }
    });
}
