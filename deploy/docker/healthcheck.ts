// The image's HEALTHCHECK: exit 0 when the service in this container answers, 1 when it does not.
// The health-api has HTTP health (/health/live); the worker, beat and the alerter answer on /metrics,
// which they serve from the moment telemetry starts until they stop.
//
//   node deploy/docker/healthcheck.ts [--service worker|beat|alerter|health-api]
//
// Without --service it finds the service in the container's processes (its `services/<name>/src/main.ts`),
// so one HEALTHCHECK line serves every command of the image.
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const TIMEOUT_MS = 3_000;

/** Where each service answers when healthy, with the ports the README documents as defaults. */
const PROBES = {
  worker: { port: 'NIGHTSHIFT_METRICS_PORT', defaultPort: 9464, path: '/metrics' },
  beat: { port: 'NIGHTSHIFT_METRICS_PORT', defaultPort: 9465, path: '/metrics' },
  alerter: { port: 'NIGHTSHIFT_METRICS_PORT', defaultPort: 9466, path: '/metrics' },
  'health-api': { port: 'NIGHTSHIFT_HTTP_PORT', defaultPort: 5555, path: '/health/live' },
} as const;

type Service = keyof typeof PROBES;

function isService(name: string | undefined): name is Service {
  return name !== undefined && Object.hasOwn(PROBES, name);
}

/** The service some process of this container runs, read from /proc/<pid>/cmdline. */
function serviceInThisContainer(): Service | undefined {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return undefined;
  }
  for (const pid of pids) {
    let argv: string[];
    try {
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // the process ended meanwhile, or is not ours to read
    }
    for (const arg of argv) {
      const name = /(?:^|\/)services\/([a-z-]+)\/src\/main\.ts$/.exec(arg)?.[1];
      if (isService(name)) return name;
    }
  }
  return undefined;
}

async function check(service: Service, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const probe = PROBES[service];
  const raw = env[probe.port]?.trim();
  const port = raw === undefined || raw === '' ? probe.defaultPort : Number(raw);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) {
    return `${probe.port}=${JSON.stringify(raw)}: the healthcheck needs a fixed port to probe`;
  }
  const url = `http://127.0.0.1:${port}${probe.path}`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    await response.body?.cancel();
    return response.ok ? undefined : `${url} answered ${response.status}`;
  } catch (error) {
    return `${url}: ${error instanceof Error ? error.message : String(error)}`;
  }
}

const { values } = parseArgs({ options: { service: { type: 'string' } } });
const service = values.service ?? serviceInThisContainer();
if (!isService(service)) {
  process.stderr.write(`healthcheck: ${service === undefined ? 'no Nightshift service runs in this container' : `unknown service ${JSON.stringify(service)}`} (worker, beat, alerter, health-api)\n`);
  process.exit(1);
}
const problem = await check(service, process.env);
if (problem !== undefined) {
  process.stderr.write(`healthcheck: ${service} unhealthy: ${problem}\n`);
  process.exit(1);
}
process.stdout.write(`healthcheck: ${service} healthy\n`);
