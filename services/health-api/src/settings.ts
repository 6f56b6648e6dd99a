import {
  combineSettings, CORE_SETTINGS, defineSetting, HEARTBEAT, parsers, TRACE_URL, URL_PASSWORD_SECRET, WHOLE_VALUE_SECRET,
  type AnySetting, type Secrecy, type SettingParser,
} from '@nightshift/core';
import { STORE_SETTINGS } from '@nightshift/store';

/** The health-api's HTTP port unless `NIGHTSHIFT_HTTP_PORT` says otherwise: where Flower users look. */
export const HEALTH_API_HTTP_PORT = 5555;

const userPairs: SettingParser<ReadonlyMap<string, string>> = (raw) => {
  const users = new Map<string, string>();
  for (const pair of raw.split(',').map((p) => p.trim()).filter(Boolean)) {
    const colon = pair.indexOf(':');
    if (colon <= 0 || colon === pair.length - 1) throw new Error('each entry must be name:password (comma-separated)');
    users.set(pair.slice(0, colon), pair.slice(colon + 1));
  }
  return users;
};

// `name:password` pairs: the names may be shown, the passwords never.
const PASSWORDS_SECRET: Secrecy = Object.freeze({
  mask: (raw: string) => raw.split(',').map((pair) => pair.trim()).filter(Boolean).map((pair) => pair.replace(/:.*$/s, ':***')).join(','),
  parts: (raw: string) => raw.split(',').map((pair) => pair.trim()).filter((pair) => pair.includes(':')).map((pair) => pair.slice(pair.indexOf(':') + 1)),
});

const managementUrl: SettingParser<string | null> = (raw, name) => (raw === 'off' ? null : parsers.url(['http', 'https'])(raw, name));

export const HTTP_PORT = defineSetting({
  name: 'NIGHTSHIFT_HTTP_PORT', description: 'the port of the health-api\'s health checks, API and dashboard',
  parse: parsers.port, default: String(HEALTH_API_HTTP_PORT),
});

export const HTTP_HOST = defineSetting({
  name: 'NIGHTSHIFT_HTTP_HOST', description: 'the address the health-api listens on',
  parse: parsers.text, defaultText: '`0.0.0.0` with credentials configured, else `127.0.0.1` (and a warning)',
});

export const DASHBOARD_USERS = defineSetting({
  name: 'NIGHTSHIFT_DASHBOARD_USERS', description: '`name:password` pairs, comma-separated, for basic auth on the dashboard and API',
  parse: userPairs, secret: PASSWORDS_SECRET,
});

export const API_TOKEN = defineSetting({
  name: 'NIGHTSHIFT_API_TOKEN', description: 'a token for scripts, accepted as `Authorization: Bearer <token>` (at least 16 characters)',
  parse: parsers.secretText(16), secret: WHOLE_VALUE_SECRET,
});

export const HISTORY_RETENTION = defineSetting({
  name: 'NIGHTSHIFT_HISTORY_RETENTION', description: 'task runs not updated for this long, and schedule fires recorded this long ago, are deleted from the history',
  parse: parsers.duration(60_000), default: '7d',
});

export const HISTORY_QUEUE_LENGTH = defineSetting({
  name: 'NIGHTSHIFT_HISTORY_QUEUE_LENGTH', description: 'events the history recorder\'s queue holds while no recorder runs (the oldest are dropped)',
  parse: parsers.wholeNumber(1000, 1e9), default: '1000000',
});

export const HEALTH_POLL = defineSetting({
  name: 'NIGHTSHIFT_HEALTH_POLL', description: 'how often queue depths, counts and a broker ping are refreshed',
  parse: parsers.duration(100), default: '5s',
});

export const HEALTH_BACKLOG = defineSetting({
  name: 'NIGHTSHIFT_HEALTH_BACKLOG', description: 'messages waiting in one queue above which `/health/background` is degraded',
  parse: parsers.wholeNumber(1, 1e9), default: '1000',
});

export const HEALTH_FAILURE_RATE = defineSetting({
  name: 'NIGHTSHIFT_HEALTH_FAILURE_RATE', description: 'share of the window\'s finished runs that failed above which it is degraded',
  parse: parsers.ratio, default: '0.2',
});

export const HEALTH_FAILURE_RATE_CRITICAL = defineSetting({
  name: 'NIGHTSHIFT_HEALTH_FAILURE_RATE_CRITICAL', description: 'the same share, for critical',
  parse: parsers.ratio, default: '0.5',
});

export const HEALTH_MIN_RUNS = defineSetting({
  name: 'NIGHTSHIFT_HEALTH_MIN_RUNS', description: 'finished runs the window needs before its failure rate counts (5 of 10 failing is someone trying a task)',
  parse: parsers.wholeNumber(1, 1e9), default: '20',
});

export const HEALTH_WINDOW = defineSetting({
  name: 'NIGHTSHIFT_HEALTH_WINDOW', description: 'the window of the failure rate',
  parse: parsers.duration(1_000), default: '5m',
});

export const HEALTH_DEAD_LETTERS = defineSetting({
  name: 'NIGHTSHIFT_HEALTH_DEAD_LETTERS', description: 'dead letters pending review at or above which it is degraded (`0`: never)',
  parse: parsers.wholeNumber(0, 1e9), default: '1',
});

export const HEALTH_BEAT_GRACE = defineSetting({
  name: 'NIGHTSHIFT_HEALTH_BEAT_GRACE', description: 'how late a scheduled run may be dispatched before beat counts as degraded',
  parse: parsers.duration(1_000), default: '1m',
});

export const RABBITMQ_MANAGEMENT_URL = defineSetting({
  name: 'NIGHTSHIFT_RABBITMQ_MANAGEMENT_URL', description: 'RabbitMQ\'s management API, for queue publish and deliver rates; `off` estimates them instead',
  parse: managementUrl, defaultText: 'the AMQP host on port 15672, with the AMQP credentials', secret: URL_PASSWORD_SECRET,
});

/** Every setting the health-api reads: the shared ones, the store's and its own. */
export const HEALTH_API_SETTINGS: readonly AnySetting[] = combineSettings(CORE_SETTINGS, STORE_SETTINGS, [
  HTTP_PORT, HTTP_HOST, DASHBOARD_USERS, API_TOKEN, HISTORY_RETENTION, HISTORY_QUEUE_LENGTH, HEARTBEAT, HEALTH_POLL,
  HEALTH_BACKLOG, HEALTH_FAILURE_RATE, HEALTH_FAILURE_RATE_CRITICAL, HEALTH_MIN_RUNS, HEALTH_WINDOW, HEALTH_DEAD_LETTERS,
  HEALTH_BEAT_GRACE, TRACE_URL, RABBITMQ_MANAGEMENT_URL,
]);
