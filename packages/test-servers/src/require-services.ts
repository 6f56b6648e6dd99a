import { dockerEngineReachable, startServiceContainer } from './containers.ts';
import { probe, ProbeFailure } from './probe.ts';
import { redactUrl } from './redact-url.ts';
import { ServiceUnavailableError } from '@nightshift/core';
import { configuredUrl, SERVICE_NAMES, SERVICES } from './services.ts';
import type { ServiceName, ServiceSpec } from './services.ts';

/** Where the tests find each service. */
export interface ServiceUrls {
  /** RabbitMQ. Default: `NIGHTSHIFT_AMQP_URL`, else `amqp://guest:guest@127.0.0.1:5672`. */
  readonly amqpUrl: string;
  /** Redis. Default: `NIGHTSHIFT_REDIS_URL`, else `redis://127.0.0.1:6379`. */
  readonly redisUrl: string;
  /** PostgreSQL. Default: `NIGHTSHIFT_DATABASE_URL`, else `postgres://postgres@127.0.0.1:5432/postgres`. */
  readonly databaseUrl: string;
}

/** Whether one service answers at its configured URL. */
export interface ServiceStatus {
  readonly spec: ServiceSpec;
  readonly url: string;
  /** Why it does not answer; `undefined` when it does. */
  readonly failure: string | undefined;
}

const resolved = new Map<string, Promise<string>>();

/**
 * Makes sure the named services answer (all three when none is named) and returns their URLs.
 *
 * Each URL comes from its `NIGHTSHIFT_*_URL` variable or the loopback default and is probed with a
 * short timeout. A service that does not answer is started with testcontainers where a Docker
 * engine is reachable (once per process; its URL is also written to its `NIGHTSHIFT_*_URL`
 * variable so that child processes find it). Otherwise this rejects with a
 * {@link ServiceUnavailableError}: one line per missing service saying how to start it.
 */
export async function requireServices(...names: ServiceName[]): Promise<ServiceUrls> {
  const wanted = names.length === 0 ? SERVICE_NAMES : [...new Set(names)];
  for (const name of wanted) {
    if (!Object.hasOwn(SERVICES, name)) {
      throw new TypeError(`requireServices: unknown service ${JSON.stringify(name)} (expected one of ${SERVICE_NAMES.join(', ')})`);
    }
  }
  const outcomes = await Promise.allSettled(wanted.map((name) => resolveService(SERVICES[name])));
  const lines: string[] = [];
  const missing: ServiceName[] = [];
  outcomes.forEach((outcome, index) => {
    if (outcome.status === 'fulfilled') return;
    const reason: unknown = outcome.reason;
    lines.push(reason instanceof Error ? reason.message : String(reason));
    missing.push(wanted[index] as ServiceName);
  });
  if (lines.length > 0) throw new ServiceUnavailableError(lines, missing);
  return {
    amqpUrl: configuredUrl(SERVICES.rabbitmq),
    redisUrl: configuredUrl(SERVICES.redis),
    databaseUrl: configuredUrl(SERVICES.postgres),
  };
}

/** Probes the services at their configured URLs, at once, without starting anything. */
export async function checkServices(names: readonly ServiceName[] = SERVICE_NAMES): Promise<ServiceStatus[]> {
  return Promise.all(names.map(async (name): Promise<ServiceStatus> => {
    const spec = SERVICES[name];
    const url = configuredUrl(spec);
    try {
      await probe(name, url);
      return { spec, url, failure: undefined };
    } catch (error) {
      return { spec, url, failure: error instanceof ProbeFailure ? error.message : String(error) };
    }
  }));
}

/** The line a person reads when a service is missing and nothing can start it. */
export function unavailableLine(status: ServiceStatus, docker: { readonly failure: string } | undefined = undefined): string {
  const { spec } = status;
  const why = docker === undefined ? 'no Docker engine is running' : `starting ${spec.image} with Docker failed (${docker.failure})`;
  return `${spec.title} is not reachable at ${redactUrl(status.url)} (${status.failure ?? 'no answer'}) and ${why}: ` +
    `start it with '${spec.startCommand}' or set ${spec.envVar}`;
}

function resolveService(spec: ServiceSpec): Promise<string> {
  const key = `${spec.name} ${configuredUrl(spec)}`;
  let url = resolved.get(key);
  if (url === undefined) {
    url = findOrStart(spec);
    resolved.set(key, url);
    // Only answers are remembered: a missing service is looked for again on the next call.
    url.catch(() => resolved.delete(key));
  }
  return url;
}

async function findOrStart(spec: ServiceSpec): Promise<string> {
  const [status] = await checkServices([spec.name]);
  if (status === undefined) throw new Error(`no status for ${spec.name}`);
  if (status.failure === undefined) return status.url;
  if (!(await dockerEngineReachable())) throw new Error(unavailableLine(status));
  let url: string;
  try {
    url = await startServiceContainer(spec);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(unavailableLine(status, { failure: (message.split('\n', 1)[0] ?? '').slice(0, 160) }), { cause: error });
  }
  process.env[spec.envVar] = url;
  return url;
}
