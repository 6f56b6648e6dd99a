import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a probe may take before it counts as "not refused" (a slow or filtered host is the services' to wait for). */
const PROBE_TIMEOUT_MS = 2_000;

/** Whether the AMQP URL's host refuses TCP connections on its port: nothing listens there. */
export function brokerRefuses(amqpUrl: string): Promise<boolean> {
  const url = new URL(amqpUrl);
  const port = Number(url.port || (url.protocol === 'amqps:' ? 5671 : 5672));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    const done = (refused: boolean) => {
      socket.destroy();
      resolve(refused);
    };
    socket.once('connect', () => done(false));
    socket.once('timeout', () => done(false));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED'));
  });
}

export interface BrokerGateOptions {
  readonly amqpUrl: string;
  /** The URL as shown, its password masked. */
  readonly shownUrl: string;
  /** How long to wait for a broker that refuses. */
  readonly boundMs: number;
  /** How often to try again. */
  readonly pollMs: number;
  /** How often to say that it is still refused. */
  readonly progressEveryMs: number;
  /** Says a line (an event of `up`'s output). */
  say(event: string, message: string, fields: Readonly<Record<string, unknown>>): void;
  readonly signal: AbortSignal;
}

/**
 * Before `nightshift up` starts anything: resolves `true` at once when the broker does not refuse connections.
 * When it does, says so once, then every `progressEveryMs` that it still does, and resolves `true` as soon as it
 * accepts, or `false` after `boundMs` or on `signal`. Every service would otherwise retry on its own, one line
 * each per retry, and the worker would be restarted without end.
 */
export async function awaitBrokerAccepting(options: BrokerGateOptions): Promise<boolean> {
  if (!(await brokerRefuses(options.amqpUrl))) return true;
  const { shownUrl, boundMs } = options;
  const started = Date.now();
  options.say('broker-refused', `RabbitMQ at ${shownUrl} refused the connection (is it running? NIGHTSHIFT_AMQP_URL); waiting up to ${boundMs / 1000}s for it before starting the services`, { amqpUrl: shownUrl, waitMs: boundMs });
  let nextProgress = started + options.progressEveryMs;
  while (!options.signal.aborted) {
    await sleep(options.pollMs, undefined, { signal: options.signal }).catch(() => {});
    if (options.signal.aborted) return false;
    if (!(await brokerRefuses(options.amqpUrl))) {
      options.say('broker-accepting', `RabbitMQ at ${shownUrl} accepts connections after ${Math.round((Date.now() - started) / 1000)}s; starting the services`, { amqpUrl: shownUrl });
      return true;
    }
    const waited = Date.now() - started;
    if (waited >= boundMs) return false;
    if (Date.now() >= nextProgress) {
      options.say('broker-refused', `RabbitMQ at ${shownUrl} still refuses after ${Math.round(waited / 1000)}s (giving up at ${boundMs / 1000}s)`, { amqpUrl: shownUrl, waitedMs: waited });
      nextProgress += options.progressEveryMs;
    }
  }
  return false;
}
