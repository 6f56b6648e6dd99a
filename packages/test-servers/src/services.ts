/** A server the integration tests run against. */
export type ServiceName = 'rabbitmq' | 'redis' | 'postgres';

export const SERVICE_NAMES: readonly ServiceName[] = Object.freeze(['rabbitmq', 'redis', 'postgres']);

/** What the helpers know about one service: where to look for it, and how to get one when it is missing. */
export interface ServiceSpec {
  readonly name: ServiceName;
  /** How people call it in messages. */
  readonly title: string;
  /** The environment variable holding its URL; the same one `@nightshift/core`'s `loadConfig` reads. */
  readonly envVar: string;
  readonly defaultUrl: string;
  /** The shell command, for the person reading the failure, that starts it on this machine. */
  readonly startCommand: string;
  /** The image started with testcontainers where nothing answers and a Docker engine does. */
  readonly image: string;
  readonly containerPort: number;
  readonly containerEnv: Readonly<Record<string, string>>;
  /** The log line (and how many times it must appear) after which the container takes connections. */
  readonly readyLog: { readonly pattern: RegExp; readonly times: number };
  readonly containerUrl: (host: string, port: number) => string;
}

export const SERVICES: Readonly<Record<ServiceName, ServiceSpec>> = Object.freeze({
  rabbitmq: {
    name: 'rabbitmq',
    title: 'RabbitMQ',
    envVar: 'NIGHTSHIFT_AMQP_URL',
    defaultUrl: 'amqp://guest:guest@127.0.0.1:5672',
    startCommand: 'rabbitmq-server -detached',
    image: 'rabbitmq:3.13',
    containerPort: 5672,
    containerEnv: {},
    readyLog: { pattern: /Server startup complete/, times: 1 },
    // The official image lets `guest` log in from outside the container.
    containerUrl: (host, port) => `amqp://guest:guest@${host}:${port}`,
  },
  redis: {
    name: 'redis',
    title: 'Redis',
    envVar: 'NIGHTSHIFT_REDIS_URL',
    defaultUrl: 'redis://127.0.0.1:6379',
    startCommand: 'redis-server --daemonize yes',
    image: 'redis:7',
    containerPort: 6379,
    containerEnv: {},
    readyLog: { pattern: /Ready to accept connections/, times: 1 },
    containerUrl: (host, port) => `redis://${host}:${port}`,
  },
  postgres: {
    name: 'postgres',
    title: 'PostgreSQL',
    envVar: 'NIGHTSHIFT_DATABASE_URL',
    defaultUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
    startCommand: 'pg_ctlcluster $(ls /etc/postgresql) main start',
    image: 'postgres:16',
    containerPort: 5432,
    // Trust, so that the container's URL has the same shape as the default one: no password.
    containerEnv: { POSTGRES_HOST_AUTH_METHOD: 'trust' },
    // The entrypoint starts the server once to initialise it, stops it, and starts it for real.
    readyLog: { pattern: /database system is ready to accept connections/, times: 2 },
    containerUrl: (host, port) => `postgres://postgres@${host}:${port}/postgres`,
  },
});

/** The URL the environment asks for, or the loopback default. */
export function configuredUrl(spec: ServiceSpec, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const raw = env[spec.envVar]?.trim();
  return raw === undefined || raw === '' ? spec.defaultUrl : raw;
}
