/** What the worker knows of a failure: an `Error`, or one serialized by its sandbox. */
interface FailureLike {
  readonly name: string;
  readonly message: string;
  readonly code?: unknown;
  readonly stack?: string | undefined;
}

/** The `err` of a worker log line: the error's class as `type`, its message and code, and its stack if asked for. */
export interface LoggedErrorFields {
  readonly type: string;
  readonly message: string;
  readonly code?: string;
  readonly stack?: string;
}

/**
 * An error as the worker's log lines show it under `err`. Only its class, message, code and (when `stack` is set)
 * stack: its other fields are the task's to fill and may hold its arguments, which are never logged.
 *
 * A plain `{ type, message }` would not survive the logger: pino's err serializer takes anything with a string
 * `message` for an Error and writes it as `"type":"Object"` (the class of a plain object) with `"stack":""`, which
 * reads as if the stack were lost. This value has no `message` of its own and writes its fields through `toJSON`,
 * so the serializer leaves it as it is.
 */
export function loggedError(error: FailureLike, options: { readonly stack: boolean }): { toJSON(): LoggedErrorFields } {
  const code = typeof error.code === 'string' || typeof error.code === 'number' ? String(error.code) : undefined;
  const fields: LoggedErrorFields = Object.freeze({
    type: error.name, message: error.message,
    ...(code === undefined ? {} : { code }),
    ...(options.stack && error.stack ? { stack: error.stack } : {}),
  });
  return { toJSON: () => fields };
}
