import { combineSettings, CORE_SETTINGS, defineSetting, HEARTBEAT, parsers, type AnySetting } from '@nightshift/core';
import { parseAutoscale } from './pool-control.ts';

export const WORKER_GRACE = defineSetting({
  name: 'NIGHTSHIFT_WORKER_GRACE', description: 'how long running tasks may finish after the worker\'s first SIGTERM (`--grace` overrides it)',
  parse: parsers.duration(), default: '30s',
});

export const WORKER_CONCURRENCY = defineSetting({
  name: 'NIGHTSHIFT_WORKER_CONCURRENCY',
  description: 'sandboxes per worker (tasks at once) when `--concurrency` is not given, e.g. under `nightshift up` or in a container',
  parse: parsers.wholeNumber(1, 1024), defaultText: 'the CPU count',
});

export const WORKER_AUTOSCALE = defineSetting({
  name: 'NIGHTSHIFT_WORKER_AUTOSCALE',
  description: 'follow the load when `--autoscale` is not given: `max,min` sandboxes (Celery\'s `--autoscale`), e.g. `10,3`: grows as tasks wait, shrinks when idle',
  parse: (raw) => parseAutoscale(raw), defaultText: 'off (a fixed pool of `--concurrency`)',
});

export const WORKER_AUTOSCALE_KEEPALIVE = defineSetting({
  name: 'NIGHTSHIFT_WORKER_AUTOSCALE_KEEPALIVE',
  description: 'how long an autoscaled pool stays grown after it was last full, before it shrinks toward its minimum (Celery\'s `AUTOSCALE_KEEPALIVE`)',
  parse: parsers.duration(1_000), default: '30s',
});

export const WORKER_PREFETCH = defineSetting({
  name: 'NIGHTSHIFT_WORKER_PREFETCH',
  description: 'messages each of the worker\'s consumers holds per sandbox of its starting pool (Celery\'s prefetch multiplier), and never fewer than 2 for each sandbox of the largest pool it can grow to (one running, one ready): more drains short tasks faster (a sandbox running quick tasks holds 8, the rest are on their way while it runs them); 2 suits long tasks shared by several workers (a message held by a busy worker waits there while another is idle)',
  parse: parsers.wholeNumber(2, 1024), default: '32',
});

export const CONSUMER_TIMEOUT = defineSetting({
  name: 'NIGHTSHIFT_CONSUMER_TIMEOUT', description: 'RabbitMQ\'s `consumer_timeout`; the worker refuses hard time limits that reach it',
  parse: parsers.duration(), default: '30m',
});

export const COMPLETION_RECORDS = defineSetting({
  name: 'NIGHTSHIFT_COMPLETION_RECORDS',
  description: 'keep a record of every finished attempt in Redis (`NIGHTSHIFT_REDIS_URL`), so a duplicate delivery of it is acked without running; `off`: no Redis, a duplicate runs again unless this worker finished it',
  parse: parsers.boolean, default: 'on',
});

export const COMPLETION_TTL = defineSetting({
  name: 'NIGHTSHIFT_COMPLETION_TTL',
  description: 'how long a completion record is kept at least; a task whose attempts and retry waits can last longer (hard limit × attempts + the waits) keeps its records that long',
  parse: parsers.duration(60_000), default: '24h',
});

export const COMPLETION_TIMEOUT = defineSetting({
  name: 'NIGHTSHIFT_COMPLETION_TIMEOUT',
  description: 'how long a completion check or write waits for Redis; past it the task runs (or is acked) without, and Redis is left alone for a few seconds',
  parse: parsers.duration(1), default: '250ms',
});

export const COMPLETION_LEASE = defineSetting({
  name: 'NIGHTSHIFT_COMPLETION_LEASE',
  description: 'the lease of a running attempt\'s claim in Redis, renewed while it runs: a copy delivered to another worker meanwhile waits for its outcome rather than run beside it, and runs once the lease expires unrenewed (its worker died)',
  parse: parsers.duration(1_000), default: '15s',
});

export const RETRY_RESCUE_AFTER = defineSetting({
  name: 'NIGHTSHIFT_RETRY_RESCUE_AFTER',
  description: 'how long past its time a retry that has not started is published again straight to its queue (the retry ladder did not bring it back: a stuck RabbitMQ dead-letter worker after a node loss); a late copy is acked without running. Needs the completion records in Redis',
  parse: parsers.duration(1_000), default: '15s',
});

/** Every setting the worker reads: the shared ones and its own. */
export const WORKER_SETTINGS: readonly AnySetting[] = combineSettings(CORE_SETTINGS, [
  WORKER_GRACE, WORKER_CONCURRENCY, WORKER_AUTOSCALE, WORKER_AUTOSCALE_KEEPALIVE, WORKER_PREFETCH, CONSUMER_TIMEOUT, HEARTBEAT, COMPLETION_RECORDS, COMPLETION_TTL, COMPLETION_TIMEOUT, COMPLETION_LEASE, RETRY_RESCUE_AFTER,
]);
