import { brand } from './error-brand.ts';
import { NightshiftError, type NightshiftErrorOptions } from './errors.ts';

// The errors of remote control (revoke, worker controls). Here, beside the rest of the taxonomy, so that the one
// table of HTTP statuses and exit codes (error-outcomes.ts) names them.

/** No run of a task with that id is known (never sent, or its history is gone). */
export class TaskNotFoundError extends NightshiftError {
  static { brand(this, 'TaskNotFoundError', 'E_TASK_NOT_FOUND'); }
  readonly id: string;
  constructor(id: string, options?: NightshiftErrorOptions) {
    super(`no task with id ${JSON.stringify(id)}: nothing was revoked`, options);
    this.name = 'TaskNotFoundError';
    this.id = id;
  }
}

/** A revoke of a task that has finished: there is nothing left to skip or stop. */
export class RevokeRefusedError extends NightshiftError {
  static { brand(this, 'RevokeRefusedError', 'E_REVOKE_REFUSED'); }
  readonly id: string;
  readonly state: string;
  constructor(id: string, state: string, options?: NightshiftErrorOptions) {
    super(`task ${JSON.stringify(id)} has finished (${state}): there is nothing to revoke`, options);
    this.name = 'RevokeRefusedError';
    this.id = id;
    this.state = state;
  }
}

/** A worker control that cannot be done as asked (a pool shrunk below its minimum, a queue not consumed). */
export class ControlRefusedError extends NightshiftError {
  static { brand(this, 'ControlRefusedError', 'E_CONTROL_REFUSED'); }
  constructor(message: string, options?: NightshiftErrorOptions) {
    super(message, options);
    this.name = 'ControlRefusedError';
  }
}
