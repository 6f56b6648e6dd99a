import { CommandFailure, UsageError } from './command-errors.ts';
import { brandedCode, brandOf, brandsOf } from './error-brand.ts';
import {
  BadParameterError, BrokerUnavailableError, ConfigError, MalformedMessageError, NightshiftError, PermanentError, RetryableError,
  SoftTimeLimitExceeded, TimeLimitExceeded, TopologyMismatchError, UnknownTaskError, UnroutableError,
} from './errors.ts';
import { CodeEntryReadOnlyError, ScheduleConflictError, ScheduleNameTakenError, ScheduleNotFoundError } from './schedule-errors.ts';
import { ServiceUnavailableError } from './service-errors.ts';
import { ControlRefusedError, RevokeRefusedError, TaskNotFoundError } from './control-errors.ts';
import { DeadLetterNotFoundError, IgnoreRefusedError, RequeueRefusedError, SchemaNotReadyError, StoreUnavailableError } from './store-errors.ts';

/** Exit codes of Nightshift's processes: 1 something failed, 2 the command line or the configuration is wrong. */
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** What an error means to whoever asked: the status the HTTP API answers, the code the `nightshift` command exits with. */
export interface ErrorOutcome {
  /** HTTP status. A 500 is answered without the error's message (it may hold internals). */
  readonly status: number;
  /** Process exit code: `EXIT_USAGE` for what the user must fix before trying again, else `EXIT_FAILURE`. */
  readonly exitCode: number;
}

type ErrorClass = abstract new (...args: never[]) => Error;

const FAILED = { status: 500, exitCode: EXIT_FAILURE };
const UNAVAILABLE = { status: 503, exitCode: EXIT_FAILURE };

/**
 * The one table: every class of the taxonomy, its status and its exit code. A subclass that is not listed
 * (a user's own `class CardDeclined extends PermanentError`) takes the outcome of its nearest listed class.
 */
const TABLE: ReadonlyArray<readonly [ErrorClass, ErrorOutcome]> = [
  [NightshiftError, FAILED],
  [SoftTimeLimitExceeded, FAILED],
  [TimeLimitExceeded, FAILED],
  [PermanentError, FAILED],
  [RetryableError, UNAVAILABLE],
  [UnknownTaskError, { status: 404, exitCode: EXIT_USAGE }],
  [MalformedMessageError, { status: 400, exitCode: EXIT_FAILURE }],
  // Met while serving a request, a ConfigError is about the options the request gave (a send's countdown or
  // queue): the server's own settings are checked before it serves anything.
  [ConfigError, { status: 400, exitCode: EXIT_USAGE }],
  [BadParameterError, { status: 400, exitCode: EXIT_USAGE }],
  [BrokerUnavailableError, UNAVAILABLE],
  [TopologyMismatchError, FAILED],
  [UnroutableError, { status: 502, exitCode: EXIT_FAILURE }],
  [StoreUnavailableError, UNAVAILABLE],
  [SchemaNotReadyError, UNAVAILABLE],
  [DeadLetterNotFoundError, { status: 404, exitCode: EXIT_USAGE }],
  [RequeueRefusedError, { status: 409, exitCode: EXIT_USAGE }],
  [IgnoreRefusedError, { status: 409, exitCode: EXIT_USAGE }],
  [ScheduleNotFoundError, { status: 404, exitCode: EXIT_USAGE }],
  [ScheduleConflictError, { status: 409, exitCode: EXIT_USAGE }],
  [ScheduleNameTakenError, { status: 409, exitCode: EXIT_USAGE }],
  [CodeEntryReadOnlyError, { status: 409, exitCode: EXIT_USAGE }],
  [ServiceUnavailableError, UNAVAILABLE],
  [TaskNotFoundError, { status: 404, exitCode: EXIT_USAGE }],
  [RevokeRefusedError, { status: 409, exitCode: EXIT_USAGE }],
  [ControlRefusedError, { status: 409, exitCode: EXIT_USAGE }],
  [UsageError, { status: 400, exitCode: EXIT_USAGE }],
  [CommandFailure, FAILED],
];

const BY_BRAND: ReadonlyMap<string, ErrorOutcome> = new Map(TABLE.map(([cls, outcome]) => [brandOf(cls) as string, Object.freeze({ ...outcome })]));

/** The outcome of anything thrown: its class's (or nearest listed ancestor's), else a plain failure. */
export function errorOutcome(error: unknown): ErrorOutcome {
  for (const name of brandsOf(error)) {
    const outcome = BY_BRAND.get(name);
    if (outcome !== undefined) return outcome;
  }
  return FAILED;
}

/** The outcome listed for `cls` itself, or `undefined` when the table does not name it (for the test that every class is mapped). */
export function listedOutcome(cls: ErrorClass): ErrorOutcome | undefined {
  const name = brandOf(cls);
  return name === undefined ? undefined : BY_BRAND.get(name);
}

/** Every class of the taxonomy with the code its instances carry and its outcome (for the API's list of error codes, and deserialisation). */
export const ERROR_CLASSES: ReadonlyArray<{ readonly cls: ErrorClass; readonly name: string; readonly code: string; readonly outcome: ErrorOutcome }> =
  Object.freeze(TABLE.map(([cls]) => Object.freeze({ cls, name: brandOf(cls) as string, code: brandedCode(cls) as string, outcome: BY_BRAND.get(brandOf(cls) as string) as ErrorOutcome })));
