// A lost connection without stopping the shared RabbitMQ: the management API closes one client's connections,
// as `rabbitmqctl close_connection` does (the client sees CONNECTION_FORCED and reconnects).

import { eventually } from './eventually.ts';

const MANAGEMENT = 'http://127.0.0.1:15672/api';
const AUTH = `Basic ${Buffer.from('guest:guest').toString('base64')}`;

/** The broker's names for the connections whose client gave `connectionName`; waits, as the management API lists a new one late. */
export function connectionsNamed(connectionName: string, timeoutMs = 20_000): Promise<string[]> {
  return eventually(`the connection "${connectionName}" in the management API`, async () => {
    const response = await fetch(`${MANAGEMENT}/connections?columns=name,client_properties`, { headers: { authorization: AUTH } });
    const listed = await response.json() as Array<{ name: string; client_properties?: { connection_name?: string } }>;
    const found = listed.filter((c) => c.client_properties?.connection_name === connectionName).map((c) => c.name);
    return found.length > 0 ? found : undefined;
  }, timeoutMs, 100);
}

/** Closes connections by the broker's names for them (`connectionsNamed`). */
export async function closeConnections(names: readonly string[], reason = 'test: a lost connection'): Promise<void> {
  for (const name of names) {
    const response = await fetch(`${MANAGEMENT}/connections/${encodeURIComponent(name)}`, { method: 'DELETE', headers: { authorization: AUTH, 'x-reason': reason } });
    if (!response.ok) throw new Error(`closing the connection ${name}: HTTP ${response.status}`);
  }
}
