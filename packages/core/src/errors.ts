/**
 * The error taxonomy. Every Nightshift error has a stable `code` that scripts, alerts and
 * dashboards can match on; messages are for people and may change.
 */
export interface NightshiftErrorOptions {
  cause?: unknown;
}

export class NightshiftError extends Error {
  readonly code: string;

  constructor(message: string, code: string, options: NightshiftErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NightshiftError';
    this.code = code;
  }
}

/** Raised inside a task (through `ctx.signal.reason`) when its soft time limit passes. The task may clean up. */
export class SoftTimeLimitExceeded extends NightshiftError {
  readonly limitMs: number;
  constructor(limitMs: number, options?: NightshiftErrorOptions) {
    super(`soft time limit of ${limitMs}ms exceeded`, 'E_SOFT_TIME_LIMIT', options);
    this.name = 'SoftTimeLimitExceeded';
    this.limitMs = limitMs;
  }
}

/** The attempt failed because its hard time limit passed and its sandbox was terminated. */
export class TimeLimitExceeded extends NightshiftError {
  readonly limitMs: number;
  constructor(limitMs: number, options?: NightshiftErrorOptions) {
    super(`hard time limit of ${limitMs}ms exceeded; the sandbox was terminated`, 'E_TIME_LIMIT', options);
    this.name = 'TimeLimitExceeded';
    this.limitMs = limitMs;
  }
}

/** Throw from a task for a failure that can never succeed: it is dead-lettered at once, never retried. */
export class PermanentError extends NightshiftError {
  constructor(message: string, options?: NightshiftErrorOptions) {
    super(message, 'E_PERMANENT', options);
    this.name = 'PermanentError';
  }
}

export interface RetryableErrorOptions extends NightshiftErrorOptions {
  /** Wait at least this long before the next attempt, in milliseconds. Default: the retry policy's backoff. */
  retryAfterMs?: number;
}

/** Throw from a task for a failure worth another attempt, whatever the policy's `retryOn` says. */
export class RetryableError extends NightshiftError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: RetryableErrorOptions = {}) {
    super(message, 'E_RETRYABLE', options);
    this.name = 'RetryableError';
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A message names a task this process does not know. */
export class UnknownTaskError extends NightshiftError {
  readonly task: string;
  constructor(task: string, options?: NightshiftErrorOptions) {
    super(`unknown task ${JSON.stringify(task)}: no task of that name is registered in this app`, 'E_UNKNOWN_TASK', options);
    this.name = 'UnknownTaskError';
    this.task = task;
  }
}

/** A message body that is not a valid task envelope. `reason` says what is wrong in words. */
export class MalformedMessageError extends NightshiftError {
  readonly reason: string;
  constructor(reason: string, options?: NightshiftErrorOptions) {
    super(`malformed task message: ${reason}`, 'E_MALFORMED_MESSAGE', options);
    this.name = 'MalformedMessageError';
    this.reason = reason;
  }
}

/** Invalid configuration. `field` names the option or environment variable at fault. */
export class ConfigError extends NightshiftError {
  readonly field: string | undefined;
  constructor(message: string, options: NightshiftErrorOptions & { field?: string } = {}) {
    super(message, 'E_CONFIG', options);
    this.name = 'ConfigError';
    this.field = options.field;
  }
}

/** The broker could not be reached, or did not confirm, within the allowed time. Nothing was silently dropped. */
export class BrokerUnavailableError extends NightshiftError {
  constructor(message: string, options?: NightshiftErrorOptions) {
    super(message, 'E_BROKER_UNAVAILABLE', options);
    this.name = 'BrokerUnavailableError';
  }
}

/** A broker object exists with arguments that differ from the ones Nightshift declares. */
export class TopologyMismatchError extends NightshiftError {
  constructor(message: string, options?: NightshiftErrorOptions) {
    super(message, 'E_TOPOLOGY_MISMATCH', options);
    this.name = 'TopologyMismatchError';
  }
}

/** The broker accepted a message but no queue was bound to take it (a `mandatory` publish came back). */
export class UnroutableError extends NightshiftError {
  constructor(message: string, options?: NightshiftErrorOptions) {
    super(message, 'E_UNROUTABLE', options);
    this.name = 'UnroutableError';
  }
}
