import { brand } from './error-brand.ts';
import { NightshiftError } from './errors.ts';

// The `nightshift` command's errors (thrown by @nightshift/cli's commands, which re-exports them). They live here,
// beside the rest of the taxonomy, so that the one table of HTTP statuses and exit codes can name every class.

export interface UsageErrorOptions {
  /** Default `E_USAGE`; or the code of the error this one explains (e.g. the store's `E_DEAD_LETTER_NOT_FOUND`). */
  readonly code?: string;
  readonly cause?: unknown;
}

/** The command line is wrong: printed as `error: <message>` plus the hint, exit code 2. */
export class UsageError extends NightshiftError {
  static { brand(this, 'UsageError', 'E_USAGE'); }
  readonly hint: string | undefined;

  constructor(message: string, hint?: string, options: UsageErrorOptions = {}) {
    super(message, options);
    this.name = 'UsageError';
    this.hint = hint;
  }
}

export interface CommandFailureOptions {
  /** What failed, for `--json` readers: e.g. `E_SERVICE_START`. */
  readonly code: string;
  /** A line on what to do about it. Default: none. */
  readonly hint?: string;
  readonly cause?: unknown;
}

/**
 * The command failed, and the message says all there is to say: printed as `error: <message>` plus the hint,
 * without the offer of a stack that an unexpected error gets; exit code 1.
 */
export class CommandFailure extends NightshiftError {
  static { brand(this, 'CommandFailure', 'E_COMMAND_FAILED'); }
  readonly hint: string | undefined;

  constructor(message: string, options: CommandFailureOptions) {
    super(message, options);
    this.name = 'CommandFailure';
    this.hint = options.hint;
  }
}
