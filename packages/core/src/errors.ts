import { brand, brandedCode } from './error-brand.ts';

/**
 * The error taxonomy. Every Nightshift error has a stable `code` that scripts, alerts and
 * dashboards can match on; messages are for people and may change. Recognise an error by its class
 * (`instanceof`, which works across two copies of the package: see `error-brand.ts`), never by its code.
 * Each class's HTTP status and CLI exit code are in `error-outcomes.ts`.
 */
export interface NightshiftErrorOptions {
  cause?: unknown;
}

export class NightshiftError extends Error {
  static { brand(this, 'NightshiftError', 'E_NIGHTSHIFT'); }
  readonly code: string;

  /** `options.code` overrides the code of the class (for errors whose code is chosen where they are thrown). */
  constructor(message: string, options: NightshiftErrorOptions & { readonly code?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NightshiftError';
    this.code = options.code ?? brandedCode(new.target) ?? 'E_NIGHTSHIFT';
  }
}

/** Raised inside a task (through `ctx.signal.reason`) when its soft time limit passes. The task may clean up. */
export class SoftTimeLimitExceeded extends NightshiftError {
  static { brand(this, 'SoftTimeLimitExceeded', 'E_SOFT_TIME_LIMIT'); }
  readonly limitMs: number;
  constructor(limitMs: number, options?: NightshiftErrorOptions) {
    super(`soft time limit of ${limitMs}ms exceeded`, options);
    this.name = 'SoftTimeLimitExceeded';
    this.limitMs = limitMs;
  }
}

/** The attempt failed because its hard time limit passed and its sandbox was terminated. */
export class TimeLimitExceeded extends NightshiftError {
  static { brand(this, 'TimeLimitExceeded', 'E_TIME_LIMIT'); }
  readonly limitMs: number;
  constructor(limitMs: number, options?: NightshiftErrorOptions) {
    super(`hard time limit of ${limitMs}ms exceeded; the sandbox was terminated`, options);
    this.name = 'TimeLimitExceeded';
    this.limitMs = limitMs;
  }
}

/** Throw from a task for a failure that can never succeed: it is dead-lettered at once, never retried. */
export class PermanentError extends NightshiftError {
  static { brand(this, 'PermanentError', 'E_PERMANENT'); }
  constructor(message: string, options?: NightshiftErrorOptions) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export interface RetryableErrorOptions extends NightshiftErrorOptions {
  /** Wait at least this long before the next attempt, in milliseconds. Default: the retry policy's backoff. */
  retryAfterMs?: number;
}

/** Throw from a task for a failure worth another attempt, whatever the policy's `retryOn` says. */
export class RetryableError extends NightshiftError {
  static { brand(this, 'RetryableError', 'E_RETRYABLE'); }
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options: RetryableErrorOptions = {}) {
    super(message, options);
    this.name = 'RetryableError';
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** A message names a task this process does not know. */
export class UnknownTaskError extends NightshiftError {
  static { brand(this, 'UnknownTaskError', 'E_UNKNOWN_TASK'); }
  readonly task: string;
  constructor(task: string, options?: NightshiftErrorOptions) {
    super(`unknown task ${JSON.stringify(task)}: no task of that name is registered in this app`, options);
    this.name = 'UnknownTaskError';
    this.task = task;
  }
}

/** A message body that is not a valid task envelope. `reason` says what is wrong in words. */
export class MalformedMessageError extends NightshiftError {
  static { brand(this, 'MalformedMessageError', 'E_MALFORMED_MESSAGE'); }
  readonly reason: string;
  constructor(reason: string, options?: NightshiftErrorOptions) {
    super(`malformed task message: ${reason}`, options);
    this.name = 'MalformedMessageError';
    this.reason = reason;
  }
}

/** Invalid configuration. `field` names the option or environment variable at fault. */
export class ConfigError extends NightshiftError {
  static { brand(this, 'ConfigError', 'E_CONFIG'); }
  readonly field: string | undefined;
  constructor(message: string, options: NightshiftErrorOptions & { field?: string } = {}) {
    super(message, options);
    this.name = 'ConfigError';
    this.field = options.field;
  }
}

/**
 * A parameter of a call or a request is wrong (a page size out of range, an unknown status, a cursor that is not
 * one): the caller must change it. `parameter` names it as the caller spelled it.
 */
export class BadParameterError extends NightshiftError {
  static { brand(this, 'BadParameterError', 'E_BAD_PARAMETER'); }
  readonly parameter: string;
  constructor(parameter: string, message: string, options?: NightshiftErrorOptions) {
    super(message, options);
    this.name = 'BadParameterError';
    this.parameter = parameter;
  }
}

/** The broker could not be reached, or did not confirm, within the allowed time. Nothing was silently dropped. */
export class BrokerUnavailableError extends NightshiftError {
  static { brand(this, 'BrokerUnavailableError', 'E_BROKER_UNAVAILABLE'); }
  constructor(message: string, options?: NightshiftErrorOptions) {
    super(message, options);
    this.name = 'BrokerUnavailableError';
  }
}

/** A broker object exists with arguments that differ from the ones Nightshift declares. */
export class TopologyMismatchError extends NightshiftError {
  static { brand(this, 'TopologyMismatchError', 'E_TOPOLOGY_MISMATCH'); }
  constructor(message: string, options?: NightshiftErrorOptions) {
    super(message, options);
    this.name = 'TopologyMismatchError';
  }
}

/** The broker accepted a message but no queue was bound to take it (a `mandatory` publish came back). */
export class UnroutableError extends NightshiftError {
  static { brand(this, 'UnroutableError', 'E_UNROUTABLE'); }
  constructor(message: string, options?: NightshiftErrorOptions) {
    super(message, options);
    this.name = 'UnroutableError';
  }
}
