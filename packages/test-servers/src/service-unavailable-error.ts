/**
 * A service the tests need is missing. Its stack is its message alone, one line per missing
 * service, so that `node --test` shows the person what to do rather than a page of frames.
 */
export class ServiceUnavailableError extends Error {
  /** The services that are missing, e.g. `['rabbitmq']`. */
  declare readonly services: readonly string[];

  constructor(lines: readonly string[], services: readonly string[]) {
    super(lines.join('\n'));
    // Non-enumerable, so that util.inspect (and the test reporters) print the message and nothing else.
    Object.defineProperty(this, 'name', { value: 'ServiceUnavailableError', enumerable: false });
    Object.defineProperty(this, 'services', { value: Object.freeze([...services]), enumerable: false });
    this.stack = this.message;
  }
}
