import { brand } from './error-brand.ts';
import { NightshiftError } from './errors.ts';

// Thrown by @nightshift/test-servers (which re-exports it) when a test run finds no RabbitMQ, Redis or
// PostgreSQL. It lives beside the rest of the taxonomy so that the one table of outcomes names it.

/**
 * A server a test needs is missing. Its stack is its message alone, one line per missing server, so that
 * `node --test` shows the person what to do rather than a page of frames.
 */
export class ServiceUnavailableError extends NightshiftError {
  static { brand(this, 'ServiceUnavailableError', 'E_SERVICE_UNAVAILABLE'); }
  /** The servers that are missing, e.g. `['rabbitmq']`. */
  declare readonly services: readonly string[];

  constructor(lines: readonly string[], services: readonly string[]) {
    super(lines.join('\n'));
    // Non-enumerable, so that util.inspect (and the test reporters) print the message and nothing else.
    Object.defineProperty(this, 'name', { value: 'ServiceUnavailableError', enumerable: false });
    Object.defineProperty(this, 'code', { value: this.code, enumerable: false });
    Object.defineProperty(this, 'services', { value: Object.freeze([...services]), enumerable: false });
    this.stack = this.message;
  }
}
