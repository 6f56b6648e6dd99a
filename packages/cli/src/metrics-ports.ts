import { ConfigProblems, METRICS_PORT } from '@nightshift/core';
import { metricsPortVariable, SERVICE_METRICS_PORTS } from './settings.ts';

/**
 * The `NIGHTSHIFT_METRICS_PORT` each service started by `up` gets. `NIGHTSHIFT_METRICS_PORT` is read by every
 * process, so under `up` it would give all services one port and all but the first would fail to bind it:
 * each service takes its own `NIGHTSHIFT_<SERVICE>_METRICS_PORT`, else the shared value when that is `0`
 * (every process picks a free port), else its built-in port (worker 9464, beat 9465, …).
 * @returns service name → the port to set; a service not in it keeps the environment as it is.
 * @throws ConfigError naming every bad or clashing variable.
 */
export function metricsPorts(services: readonly string[], env: Readonly<Record<string, string | undefined>>): ReadonlyMap<string, string> {
  const collected = new ConfigProblems(env);
  const shared = collected.read(METRICS_PORT);
  const ports = new Map<string, string>();
  const sharing: string[] = [];
  for (const service of services) {
    const setting = SERVICE_METRICS_PORTS.get(service);
    const own = setting === undefined ? undefined : collected.read(setting);
    if (own !== undefined) ports.set(service, String(own));
    else if (shared !== undefined) sharing.push(service);
  }
  if (shared !== undefined && shared !== 0 && sharing.length > 1) {
    collected.add(METRICS_PORT.name, `${METRICS_PORT.name}: ${shared} would be the /metrics port of ${sharing.join(', ')} at once; ` +
      `give each its own (${sharing.map(metricsPortVariable).join(', ')}), or set it to 0 for free ports`);
  }
  const byPort = new Map<string, string[]>();
  for (const [service, value] of ports) if (value !== '0') byPort.set(value, [...(byPort.get(value) ?? []), service]);
  for (const [value, owners] of byPort) {
    const names = owners.map(metricsPortVariable).join(', ');
    if (owners.length > 1) collected.add(names, `${names}: the same port ${value} for ${owners.join(' and ')}`);
  }
  return collected.finish(ports);
}
