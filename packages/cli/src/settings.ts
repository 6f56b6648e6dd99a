// The settings the `nightshift` command reads itself; each service declares its own.
import { defineSetting, parsers, type AnySetting, type Setting } from '@nightshift/core';
import { NIGHTSHIFT_SERVICES } from './nightshift-services.ts';

export const DEBUG = defineSetting({
  name: 'NIGHTSHIFT_DEBUG', description: 'as `--verbose`: an unexpected error of a `nightshift` command prints its stack',
  parse: parsers.boolean, default: '0',
});

/**
 * The variable that gives one service its own `/metrics` port under `nightshift up`:
 * `NIGHTSHIFT_WORKER_METRICS_PORT`, `NIGHTSHIFT_HEALTH_API_METRICS_PORT`, …
 */
export function metricsPortVariable(service: string): string {
  return `NIGHTSHIFT_${service.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_METRICS_PORT`;
}

/** Under `nightshift up`, each service's own `/metrics` port setting, by service name. */
export const SERVICE_METRICS_PORTS: ReadonlyMap<string, Setting<number | undefined>> = new Map(NIGHTSHIFT_SERVICES.map(({ name, metricsPort }) => [name, defineSetting({
  name: metricsPortVariable(name),
  description: `under \`nightshift up\`, the ${name}'s own \`/metrics\` port (\`NIGHTSHIFT_METRICS_PORT\` would give every service the same one, so \`up\` accepts it only as \`0\`)`,
  // No default value: unset, the service keeps its own port, or takes a free one when NIGHTSHIFT_METRICS_PORT is 0.
  parse: parsers.port, defaultText: `\`${metricsPort}\``,
})]));

/** Every setting the `nightshift` command reads itself. */
export const CLI_SETTINGS: readonly AnySetting[] = Object.freeze([DEBUG, ...SERVICE_METRICS_PORTS.values()]);
