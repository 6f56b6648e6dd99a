// The settings every Nightshift process reads, and the few that two services must read alike. A setting of one
// service or package is declared in that service or package, not here.
import { parseBrokerUrls } from './broker-urls.ts';
import { parseDuration } from './duration.ts';
import { ConfigError } from './errors.ts';
import { LOG_LEVELS } from './logger.ts';
import { URL_PASSWORD_SECRET } from './secrecy.ts';
import { defineSetting, type AnySetting } from './setting.ts';
import { duration, list, oneOf, port, text, url, wholeNumber } from './setting-parsers.ts';

export const AMQP_URL = defineSetting({
  name: 'NIGHTSHIFT_AMQP_URL', description: 'RabbitMQ; a cluster\'s nodes comma-separated, tried in turn (no load balancer needed)',
  parse: (raw, name) => parseBrokerUrls(raw, name).join(','), default: 'amqp://guest:guest@127.0.0.1:5672', secret: URL_PASSWORD_SECRET,
});

export const REDIS_URL = defineSetting({
  name: 'NIGHTSHIFT_REDIS_URL', description: 'Redis (beat\'s lease and state, the worker\'s completion records, the example)',
  parse: url(['redis', 'rediss']), default: 'redis://127.0.0.1:6379', secret: URL_PASSWORD_SECRET,
});

export const DATABASE_URL = defineSetting({
  name: 'NIGHTSHIFT_DATABASE_URL', description: 'PostgreSQL (dead letters, history, the example)',
  parse: url(['postgres', 'postgresql']), default: 'postgres://postgres@127.0.0.1:5432/postgres', secret: URL_PASSWORD_SECRET,
});

export const PREFIX = defineSetting({
  name: 'NIGHTSHIFT_PREFIX',
  description: 'prefix of every broker object (`nightshift.q.default`) and Redis key, so several apps or test runs share one broker',
  parse: (raw, name) => {
    if (!/^[a-z0-9][a-z0-9_-]{0,62}$/i.test(raw)) throw new ConfigError(`${name}: ${JSON.stringify(raw)} must be letters, digits, _ or - (at most 63)`, { field: name });
    return raw;
  },
  default: 'nightshift',
});

export const PUBLISH_TIMEOUT = defineSetting({
  name: 'NIGHTSHIFT_PUBLISH_TIMEOUT', description: 'how long a publish waits for the broker (outage, flow control) before it fails',
  parse: duration(), default: '30s',
});

export const DELIVERY_LIMIT = defineSetting({
  name: 'NIGHTSHIFT_DELIVERY_LIMIT', description: 'deliveries of one message before the broker dead-letters it as poison',
  parse: wholeNumber(1, 1000), default: '5',
});

export const RETRY_LADDER = defineSetting({
  name: 'NIGHTSHIFT_RETRY_LADDER',
  description: 'the wait steps of the retry ladder; a delay takes the longest step that fits, again for what remains',
  parse: (raw, name): readonly number[] => {
    const steps = raw.split(',').map((part) => parseDuration(part.trim(), name));
    if (steps.some((step) => step < 100)) throw new ConfigError(`${name}: ${JSON.stringify(raw)}: every step must be at least 100ms`, { field: name });
    return Object.freeze([...new Set(steps)].sort((a, b) => a - b));
  },
  default: '1s,5s,30s,2m,10m,1h',
});

export const LOG_LEVEL = defineSetting({
  name: 'NIGHTSHIFT_LOG_LEVEL', description: 'the least severe log line written: `trace`, `debug`, `info`, `warn`, `error`, `fatal`, or `silent`',
  parse: oneOf(LOG_LEVELS), default: 'info',
});

export const METRICS_PORT = defineSetting({
  name: 'NIGHTSHIFT_METRICS_PORT', description: 'port of the process\'s Prometheus `/metrics` (`0`: any free port)',
  parse: port, defaultText: 'the service\'s own',
});

export const REDACT = defineSetting({
  name: 'NIGHTSHIFT_REDACT',
  description: 'extra key names to redact from logs and alerts, comma-separated (passwords, tokens, API keys and webhook URLs always are)',
  parse: list(text),
});

/**
 * `NIGHTSHIFT_HEARTBEAT`: read by the worker (how often it says it is alive) and the health-api (when it
 * counts a worker offline), which must agree.
 */
export const HEARTBEAT = defineSetting({
  name: 'NIGHTSHIFT_HEARTBEAT', description: 'interval of the workers\' `worker.heartbeat` events; the health-api counts a worker offline after 3 missed',
  parse: duration(100), default: '5s',
});

/** `NIGHTSHIFT_TRACE_URL`: the alerter's pages and the health-api's dashboard link to the same trace viewer. */
export const TRACE_URL = defineSetting({
  name: 'NIGHTSHIFT_TRACE_URL', description: 'base of the links to traces in alerts and the dashboard (`{traceId}` is replaced, else the id is appended)',
  parse: url(['http', 'https']),
});

/** The settings `loadConfig` reads: every process reads them. */
export const CORE_SETTINGS: readonly AnySetting[] = Object.freeze([
  AMQP_URL, REDIS_URL, DATABASE_URL, PREFIX, PUBLISH_TIMEOUT, DELIVERY_LIMIT, RETRY_LADDER, LOG_LEVEL, METRICS_PORT, REDACT,
]);
