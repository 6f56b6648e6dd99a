/** The levels a logger accepts, least severe first; `silent` writes nothing. */
export const LOG_LEVELS = Object.freeze(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const);

export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * How Nightshift logs: what a task sees as `ctx.log` and what every package and service is given. A pino
 * logger is one (`createLogger` of `@nightshift/telemetry` makes them), and so is a plain object with these
 * four methods, which is all a test needs to pass.
 */
export interface Logger {
  debug(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
  warn(obj: object | string, msg?: string): void;
  error(obj: object | string, msg?: string): void;
}
