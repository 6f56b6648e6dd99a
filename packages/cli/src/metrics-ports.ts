import { ConfigProblems } from '@nightshift/core';

/**
 * The variable that gives one service its own `/metrics` port under `nightshift up`:
 * `NIGHTSHIFT_WORKER_METRICS_PORT`, `NIGHTSHIFT_HEALTH_API_METRICS_PORT`, …
 */
export function metricsPortVariable(service: string): string {
  return `NIGHTSHIFT_${service.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_METRICS_PORT`;
}

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
  const port = (name: string) => collected.read<string | undefined>(name, undefined, (raw) => {
    if (!/^\d+$/.test(raw) || Number(raw) > 65_535) throw new Error(`${JSON.stringify(raw)} must be a whole number from 0 to 65535`);
    return String(Number(raw));
  });
  const shared = port('NIGHTSHIFT_METRICS_PORT');
  const ports = new Map<string, string>();
  const sharing: string[] = [];
  for (const service of services) {
    const own = port(metricsPortVariable(service));
    if (own !== undefined) ports.set(service, own);
    else if (shared !== undefined) sharing.push(service);
  }
  if (shared !== undefined && shared !== '0' && sharing.length > 1) {
    collected.problems.push(`NIGHTSHIFT_METRICS_PORT: ${shared} would be the /metrics port of ${sharing.join(', ')} at once; ` +
      `give each its own (${sharing.map(metricsPortVariable).join(', ')}), or set it to 0 for free ports`);
  }
  const byPort = new Map<string, string[]>();
  for (const [service, value] of ports) if (value !== '0') byPort.set(value, [...(byPort.get(value) ?? []), service]);
  for (const [value, owners] of byPort) {
    if (owners.length > 1) collected.problems.push(`${owners.map(metricsPortVariable).join(', ')}: the same port ${value} for ${owners.join(' and ')}`);
  }
  if (collected.problems.length > 0) collected.fail();
  return ports;
}
