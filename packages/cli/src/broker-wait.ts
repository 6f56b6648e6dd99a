import { BrokerUnavailableError, redactUrl, type NightshiftConfig } from '@nightshift/core';
import { CommandFailure, type Io } from './command.ts';

/** How long a connection may take before the command says what it is waiting for. */
const PATIENCE_MS = 1_000;

/**
 * Resolves or rejects as `connecting` does. Should RabbitMQ take longer than a second to answer, says once on
 * stderr what the command waits for and for how long (with `json`, as one JSON object), so that it does not
 * seem to hang. A broker that is unavailable (refused, or silent until the timeout) is a `CommandFailure`: its
 * message says what to do, so no stack is offered.
 */
export async function waitForBroker<T>(connecting: Promise<T>, config: NightshiftConfig, io: Io, json: boolean): Promise<T> {
  const url = redactUrl(config.amqpUrl);
  const message = `waiting for RabbitMQ at ${url} (up to ${config.publishTimeoutMs / 1000}s; NIGHTSHIFT_PUBLISH_TIMEOUT)…`;
  const slow = setTimeout(() => {
    io.stderr.write(json ? `${JSON.stringify({ event: 'waiting', message, amqpUrl: url, timeoutMs: config.publishTimeoutMs })}\n` : `${message}\n`);
  }, PATIENCE_MS);
  try {
    return await connecting;
  } catch (error) {
    if (error instanceof BrokerUnavailableError) throw new CommandFailure(error.message, { code: error.code, cause: error });
    throw error;
  } finally {
    clearTimeout(slow);
  }
}
