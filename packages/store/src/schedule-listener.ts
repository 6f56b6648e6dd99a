import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Backoff } from '@nightshift/core';
import { quoteIdent, type Store } from './store.ts';

/** What `listen` calls when it cannot say which entry changed: reload them all. */
export const ALL_SCHEDULES = '*';

// PostgreSQL's channel names are identifiers: at most 63 bytes.
const MAX_CHANNEL_BYTES = 63;
const CHANNEL_BASE = 'nightshift_schedules.';

/**
 * The PostgreSQL channel on which changes of a schema's runtime schedules and schedule states are announced:
 * `nightshift_schedules.<schema>`, or `nightshift_schedules.<md5 of the schema>` when that would be longer than
 * 63 bytes. One per schema, so that two installations (or two tests) sharing a database do not hear each other.
 * Migration 005's trigger function computes the same name.
 */
export function scheduleChannel(schema: string): string {
  const plain = `${CHANNEL_BASE}${schema}`;
  return Buffer.byteLength(plain) <= MAX_CHANNEL_BYTES ? plain : `${CHANNEL_BASE}${createHash('md5').update(schema).digest('hex')}`;
}

export interface ListenOptions {
  /**
   * Told each time the listening connection is lost or cannot be opened (then `listen` tries again, backing off),
   * and with `undefined` when it listens again after such a failure. For a log line; never throws into `listen`.
   */
  readonly onConnection?: (problem: Error | undefined) => void;
  /** How often the idle connection is checked with a statement, so a silently dead one is noticed. Default: `10000` ms. */
  readonly checkEveryMs?: number;
  /** The waits between attempts to connect again. Default: 250 ms doubling to 5 s, ±20 %. */
  readonly backoff?: Backoff;
}

const DEFAULT_LISTEN_BACKOFF = new Backoff({ base: 250, factor: 2, max: 5_000, jitter: 0.2 }, 'schedule listen backoff');

/**
 * Listens for changes of the store's schedules until `signal` aborts, on a connection of its own, and calls
 * `onChange` with the name of each entry changed. After every connect, the first included, it calls
 * `onChange('*')`: what changed while nobody listened (before the first `LISTEN`, or while the connection was
 * down) is not announced again, so the listener reloads everything. A lost connection is opened again with
 * backoff, for as long as it takes. Resolves once `signal` aborted and the connection is closed; never rejects.
 */
export async function listenForScheduleChanges(store: Store, onChange: (name: string) => void, signal: AbortSignal, options: ListenOptions = {}): Promise<void> {
  const channel = scheduleChannel(store.schema);
  const backoff = options.backoff ?? DEFAULT_LISTEN_BACKOFF;
  const checkEveryMs = options.checkEveryMs ?? 10_000;
  const tell = (name: string) => {
    try {
      onChange(name);
    } catch {
      // The listener's own trouble is its own: listening goes on.
    }
  };
  const report = (problem: Error | undefined) => {
    try {
      options.onConnection?.(problem);
    } catch {
      // As above.
    }
  };
  let failures = 0;
  while (!signal.aborted) {
    const client = store.dedicatedClient();
    const lost = new Promise<Error>((resolve) => {
      client.on('error', resolve);
      client.on('end', () => resolve(new Error('the listening connection to PostgreSQL ended')));
    });
    let problem: Error | undefined;
    try {
      await client.connect();
      client.on('notification', (message) => {
        if (message.channel === channel) tell(message.payload ?? ALL_SCHEDULES);
      });
      await client.query(`LISTEN ${quoteIdent(channel)}`);
      if (failures > 0) report(undefined);
      failures = 0;
      tell(ALL_SCHEDULES);
      problem = await watch(client, lost, signal, checkEveryMs);
    } catch (error) {
      problem = error instanceof Error ? error : new Error(String(error));
    } finally {
      await client.end().catch(() => {});
    }
    if (signal.aborted) break;
    failures += 1;
    report(store.explain(problem) as Error);
    await backoff.sleep(failures, signal).catch(() => {});
  }
}

/** Waits until the connection is lost (resolves with why) or `signal` aborts (resolves with `undefined`), checking it now and then. */
async function watch(client: { query(text: string): Promise<unknown> }, lost: Promise<Error>, signal: AbortSignal, checkEveryMs: number): Promise<Error | undefined> {
  for (;;) {
    // The wait ends early when `signal` aborts, and is cancelled when the connection is lost first.
    const done = new AbortController();
    const outcome = await Promise.race([lost, sleep(checkEveryMs, 'check' as const, { signal: AbortSignal.any([signal, done.signal]) }).catch(() => undefined)]);
    done.abort();
    if (outcome !== 'check') return outcome;
    try {
      await client.query('SELECT 1');
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  }
}
