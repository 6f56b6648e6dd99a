import { connect as connectAmqp } from 'amqplib';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { ServiceName } from './services.ts';

/** How long a service may take to answer before it counts as not reachable. */
export const PROBE_TIMEOUT_MS = 3_000;

/** Why a probe failed, short enough to sit inside the one-line message. */
export class ProbeFailure extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'ProbeFailure';
  }
}

/**
 * Resolves when the service at `url` really answers (AMQP handshake, Redis PING, PostgreSQL
 * `select 1`); rejects with a {@link ProbeFailure} otherwise. Every connection it opens is closed.
 */
export async function probe(name: ServiceName, url: string, timeoutMs: number = PROBE_TIMEOUT_MS): Promise<void> {
  const attempt = PROBES[name](url, timeoutMs);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ProbeFailure(`no answer within ${formatSeconds(timeoutMs)}`)), timeoutMs);
  });
  try {
    await Promise.race([attempt, deadline]);
  } catch (error) {
    throw error instanceof ProbeFailure ? error : new ProbeFailure(describeFailure(error, url));
  } finally {
    clearTimeout(timer);
    // A late attempt cleans up after itself; its outcome no longer matters.
    attempt.catch(() => {});
  }
}

type Probe = (url: string, timeoutMs: number) => Promise<void>;

// The clients' own timeouts are a backstop (they also close the socket); the probe's timer, shorter, gives the
// message, so a slow machine cannot make the wording depend on which timer fired first.
const backstop = (timeoutMs: number) => timeoutMs + 1_000;

const PROBES: Readonly<Record<ServiceName, Probe>> = {
  rabbitmq: async (url, timeoutMs) => {
    const connection = await connectAmqp(url, { timeout: backstop(timeoutMs) });
    connection.on('error', () => {});
    await connection.close();
  },
  redis: async (url, timeoutMs) => {
    const client = new Redis(url, {
      lazyConnect: true,
      connectTimeout: backstop(timeoutMs),
      commandTimeout: backstop(timeoutMs),
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
      // disconnect() otherwise keeps a silent server's socket, and so the process, alive for 2 s.
      disconnectTimeout: 100,
    });
    // The socket's error (ECONNREFUSED…) only reaches this listener; connect() just says "Connection is closed".
    // Without a listener ioredis would also print "Unhandled error event" on its own.
    let socketError: unknown;
    client.on('error', (error: unknown) => {
      socketError ??= error;
    });
    try {
      await client.connect().catch((error: unknown) => {
        throw socketError ?? error;
      });
      const reply = await client.ping();
      if (reply !== 'PONG') throw new ProbeFailure(`PING answered ${JSON.stringify(reply)}`);
    } finally {
      client.disconnect();
    }
  },
  postgres: async (url, timeoutMs) => {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: backstop(timeoutMs), query_timeout: backstop(timeoutMs) });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
    } finally {
      await client.end().catch(() => {});
    }
  },
};

const ERRNO_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
};

function describeFailure(error: unknown, url: string): string {
  const code = findCode(error);
  if (code !== undefined && ERRNO_REASONS[code] !== undefined) return ERRNO_REASONS[code];
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = (message.split('\n', 1)[0] ?? '').trim() || 'failed';
  return shorten(scrubSecrets(firstLine, url), MAX_REASON_LENGTH);
}

const MAX_REASON_LENGTH = 160;

function shorten(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.lastIndexOf(' ', max - 1);
  return `${text.slice(0, cut > max / 2 ? cut : max - 1)}…`;
}

/** The errno code of an error, or of the first of an AggregateError's (Node tries IPv4 and IPv6). */
function findCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  if ('code' in error && typeof error.code === 'string') return error.code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const code = findCode(inner);
      if (code !== undefined) return code;
    }
  }
  return undefined;
}

/** Client libraries rarely echo a password, but a message must never be the one that does. */
function scrubSecrets(text: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // An unparseable URL: nothing to look for.
  }
  return password === '' ? text : text.split(password).join('***');
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
