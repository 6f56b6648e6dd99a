import { parseDuration } from './duration.ts';
import { ConfigError } from './errors.ts';
import { LOG_LEVELS } from './logger.ts';

/** Process-wide settings, read from `NIGHTSHIFT_*` environment variables. */
export interface NightshiftConfig {
  /** `NIGHTSHIFT_AMQP_URL`. Default: `amqp://guest:guest@127.0.0.1:5672`. */
  readonly amqpUrl: string;
  /** `NIGHTSHIFT_REDIS_URL`. Default: `redis://127.0.0.1:6379`. */
  readonly redisUrl: string;
  /** `NIGHTSHIFT_DATABASE_URL`. Default: `postgres://postgres@127.0.0.1:5432/postgres`. */
  readonly databaseUrl: string;
  /** `NIGHTSHIFT_PREFIX`: prefixes every broker object and Redis key. Default: `nightshift`. */
  readonly prefix: string;
  /** `NIGHTSHIFT_PUBLISH_TIMEOUT`: how long a publish waits for the broker (outage, flow control) before it fails. Default: `30s`. */
  readonly publishTimeoutMs: number;
  /** `NIGHTSHIFT_DELIVERY_LIMIT`: deliveries of one message before the broker dead-letters it as poison. Default: `5`. */
  readonly deliveryLimit: number;
  /** `NIGHTSHIFT_RETRY_LADDER`: the wait steps of the retry ladder, comma-separated durations. Default: `1s,5s,30s,2m,10m,1h`. */
  readonly retryLadderMs: readonly number[];
  /** `NIGHTSHIFT_LOG_LEVEL`: `trace`, `debug`, `info`, `warn`, `error`, `fatal` or `silent`. Default: `info`. */
  readonly logLevel: string;
  /** `NIGHTSHIFT_METRICS_PORT`: the port of this process's `/metrics`; `0` picks a free one. Default: the service's own port. */
  readonly metricsPort: number | undefined;
  /** `NIGHTSHIFT_REDACT`: extra key names to redact from logs and alerts, comma-separated. */
  readonly redactKeys: readonly string[];
}

export const DEFAULT_CONFIG = Object.freeze({
  amqpUrl: 'amqp://guest:guest@127.0.0.1:5672',
  redisUrl: 'redis://127.0.0.1:6379',
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/postgres',
  prefix: 'nightshift',
  publishTimeout: '30s',
  deliveryLimit: 5,
  retryLadder: '1s,5s,30s,2m,10m,1h',
  logLevel: 'info',
});

/**
 * Reads settings from an environment and collects what is wrong instead of stopping at the first problem,
 * so a service can report every bad variable at once. Services with settings of their own start from
 * `readCore()` and end with `fail()` when anything was recorded.
 */
export class ConfigProblems {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly problems: string[] = [];

  constructor(env: Readonly<Record<string, string | undefined>>) {
    this.env = env;
  }

  /** The trimmed value of `name`, or `undefined` when unset or blank. */
  value(name: string): string | undefined {
    const raw = this.env[name]?.trim();
    return raw === undefined || raw === '' ? undefined : raw;
  }

  /** `parse(value)`, or `fallback` when unset; a throw is recorded (a `ConfigError`'s message as it is) and gives `fallback`. */
  read<T>(name: string, fallback: T, parse: (raw: string) => T): T {
    const raw = this.value(name);
    if (raw === undefined) return fallback;
    try {
      return parse(raw);
    } catch (error) {
      this.problems.push(error instanceof ConfigError ? error.message : `${name}: ${(error as Error).message}`);
      return fallback;
    }
  }

  /** The `NIGHTSHIFT_*` settings every process shares; their problems are recorded here. */
  readCore(): NightshiftConfig | undefined {
    try {
      return loadConfig(this.env);
    } catch (error) {
      this.problems.push(...(error as Error).message.replace(/^invalid configuration:\n/, '').split('\n').map((line) => line.trim()));
      return undefined;
    }
  }

  /** @throws ConfigError listing every recorded problem. Call it when `problems` is not empty. */
  fail(): never {
    const { problems } = this;
    throw new ConfigError(`invalid configuration:\n  ${problems.join('\n  ')}`, { field: problems.length === 1 ? problems[0]?.split(':')[0] : undefined });
  }
}

/**
 * Reads and validates the configuration. Every problem is reported at once, each naming its variable.
 * @throws ConfigError listing the variables at fault.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>> = process.env): NightshiftConfig {
  const collected: ConfigProblems = new ConfigProblems(env); // typed, so `collected.fail()` narrows
  const read = <T>(name: string, fallback: T, parse: (raw: string) => T): T => collected.read(name, fallback, parse);
  const url = (name: string, schemes: readonly string[]) => (raw: string): string => {
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigError(`${name}: ${JSON.stringify(redactUrl(raw))} is not a URL (expected ${schemes[0]}://host:port)`);
    }
    if (!schemes.includes(parsed.protocol.replace(/:$/, ''))) {
      throw new ConfigError(`${name}: scheme ${JSON.stringify(parsed.protocol)} is not one of ${schemes.map((s) => `${s}:`).join(', ')}`);
    }
    return raw;
  };
  const integer = (name: string, min: number, max: number) => (raw: string): number => {
    const value = Number(raw);
    if (!/^\d+$/.test(raw) || value < min || value > max) throw new ConfigError(`${name}: ${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`);
    return value;
  };

  const config: NightshiftConfig = {
    amqpUrl: read('NIGHTSHIFT_AMQP_URL', DEFAULT_CONFIG.amqpUrl, url('NIGHTSHIFT_AMQP_URL', ['amqp', 'amqps'])),
    redisUrl: read('NIGHTSHIFT_REDIS_URL', DEFAULT_CONFIG.redisUrl, url('NIGHTSHIFT_REDIS_URL', ['redis', 'rediss'])),
    databaseUrl: read('NIGHTSHIFT_DATABASE_URL', DEFAULT_CONFIG.databaseUrl, url('NIGHTSHIFT_DATABASE_URL', ['postgres', 'postgresql'])),
    prefix: read('NIGHTSHIFT_PREFIX', DEFAULT_CONFIG.prefix, (raw) => {
      if (!/^[a-z0-9][a-z0-9_-]{0,62}$/i.test(raw)) throw new ConfigError(`NIGHTSHIFT_PREFIX: ${JSON.stringify(raw)} must be letters, digits, _ or - (at most 63)`);
      return raw;
    }),
    publishTimeoutMs: read('NIGHTSHIFT_PUBLISH_TIMEOUT', parseDuration(DEFAULT_CONFIG.publishTimeout, 'default'), (raw) => parseDuration(raw, 'NIGHTSHIFT_PUBLISH_TIMEOUT')),
    deliveryLimit: read('NIGHTSHIFT_DELIVERY_LIMIT', DEFAULT_CONFIG.deliveryLimit, integer('NIGHTSHIFT_DELIVERY_LIMIT', 1, 1000)),
    retryLadderMs: read('NIGHTSHIFT_RETRY_LADDER', parseLadder(DEFAULT_CONFIG.retryLadder), parseLadder),
    logLevel: read('NIGHTSHIFT_LOG_LEVEL', DEFAULT_CONFIG.logLevel, (raw) => {
      if (!(LOG_LEVELS as readonly string[]).includes(raw)) throw new ConfigError(`NIGHTSHIFT_LOG_LEVEL: ${JSON.stringify(raw)} must be one of ${LOG_LEVELS.join(', ')}`);
      return raw;
    }),
    metricsPort: read<number | undefined>('NIGHTSHIFT_METRICS_PORT', undefined, integer('NIGHTSHIFT_METRICS_PORT', 0, 65535)),
    redactKeys: read('NIGHTSHIFT_REDACT', [], (raw) => raw.split(',').map((k) => k.trim()).filter(Boolean)),
  };
  if (collected.problems.length > 0) collected.fail();
  return Object.freeze(config);
}

function parseLadder(raw: string): readonly number[] {
  const steps = raw.split(',').map((part) => parseDuration(part.trim(), 'NIGHTSHIFT_RETRY_LADDER'));
  if (steps.some((step) => step < 100)) throw new ConfigError(`NIGHTSHIFT_RETRY_LADDER: ${JSON.stringify(raw)}: every step must be at least 100ms`);
  return Object.freeze([...new Set(steps)].sort((a, b) => a - b));
}

/** A URL with its password replaced by `***`, safe to log. */
export function redactUrl(raw: string): string {
  try {
    const parsed = new URL(raw);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return raw.replace(/\/\/([^:/@]+):[^@/]*@/, '//$1:***@');
  }
}
