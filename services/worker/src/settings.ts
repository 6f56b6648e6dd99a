import { combineSettings, CORE_SETTINGS, defineSetting, HEARTBEAT, parsers, type AnySetting } from '@nightshift/core';

export const WORKER_GRACE = defineSetting({
  name: 'NIGHTSHIFT_WORKER_GRACE', description: 'how long running tasks may finish after the worker\'s first SIGTERM (`--grace` overrides it)',
  parse: parsers.duration(), default: '30s',
});

export const WORKER_CONCURRENCY = defineSetting({
  name: 'NIGHTSHIFT_WORKER_CONCURRENCY',
  description: 'sandboxes per worker (tasks at once) when `--concurrency` is not given, e.g. under `nightshift up` or in a container',
  parse: parsers.wholeNumber(1, 1024), defaultText: 'the CPU count',
});

export const CONSUMER_TIMEOUT = defineSetting({
  name: 'NIGHTSHIFT_CONSUMER_TIMEOUT', description: 'RabbitMQ\'s `consumer_timeout`; the worker refuses hard time limits that reach it',
  parse: parsers.duration(), default: '30m',
});

/** Every setting the worker reads: the shared ones and its own. */
export const WORKER_SETTINGS: readonly AnySetting[] = combineSettings(CORE_SETTINGS, [WORKER_GRACE, WORKER_CONCURRENCY, CONSUMER_TIMEOUT, HEARTBEAT]);
