import { Backoff, type Logger } from '@nightshift/core';
import { readAlert } from './alert.ts';
import type { AlertChannel } from './channels.ts';
import { deliverInSpan } from './delivery-span.ts';
import { DEFAULT_RATE_LIMIT, type RateLimit } from './rate-limit.ts';

/** An outbox entry as the sender sees it (the store's `OutboxEntry` fits). */
export interface OutboxEntryLike {
  readonly id: string;
  readonly channel: string;
  readonly alert: Readonly<Record<string, unknown>>;
  /** Attempts so far, this one included. */
  readonly attempts: number;
}

/** The outbox the sender drains (the store's `AlertOutbox` fits): claim with a lease, then mark. */
export interface AlertOutboxPort {
  claim(limit: number, leaseMs: number): Promise<OutboxEntryLike[]>;
  markSent(id: string): Promise<void>;
  markFailed(id: string, error: string, retryInMs: number): Promise<void>;
  postpone(id: string, delayMs: number): Promise<void>;
  sentWithin(channel: string, withinMs: number): Promise<{ count: number; oldest: string | null }>;
}

export interface OutboxSenderOptions {
  readonly outbox: AlertOutboxPort;
  readonly channels: readonly AlertChannel[];
  readonly logger: Logger;
  /** Per channel name. Default: `DEFAULT_RATE_LIMIT` for every channel but `log`, which has none. */
  readonly rateLimits?: Readonly<Record<string, RateLimit | undefined>>;
  /** How often the outbox is looked at when nothing wakes the sender. Default: `1000` ms. */
  readonly pollMs?: number;
  /** How long a claimed entry stays ours. Default: `60000` ms. */
  readonly leaseMs?: number;
  /** Backoff of a failed entry: `baseMs` doubling per attempt up to `maxMs`, ±20 %. Default: 2 s to 5 min. */
  readonly retry?: { readonly baseMs: number; readonly maxMs: number };
  /** Entries claimed per round. Default: `20`. */
  readonly batch?: number;
  /** Called after each alert a channel took. Must not throw. */
  readonly onSent?: (channel: string) => void;
  /** Called after each failed attempt. Must not throw. */
  readonly onFailed?: (channel: string, error: Error) => void;
}

const DEFAULT_ENTRY_RETRY = { baseMs: 2_000, maxMs: 300_000 };
// While the outbox cannot be read (PostgreSQL is down): 1 s doubling to 30 s, never sooner than the poll.
const STORE_BACKOFF = new Backoff({ base: 1_000, factor: 2, max: 30_000, jitter: 0 }, 'outbox sender store backoff');

/**
 * Drains the alert outbox: sends each due entry through its channel, marks it sent, and on failure leaves it
 * for a later attempt with backoff, so an outage of Slack or SMTP delays alerts and loses none. A per-channel
 * rate limit postpones entries rather than dropping them. `stop` waits for the sends in flight to be marked,
 * so a restart does not send them again. Each delivery attempt is an `alert <channel>` span (`deliverInSpan`).
 */
export class OutboxSender {
  readonly #options: OutboxSenderOptions;
  readonly #channels: ReadonlyMap<string, AlertChannel>;
  /** Sent, but the mark did not reach the database yet: marked again before anything else is claimed. */
  readonly #unrecorded = new Set<string>();
  #running = false;
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  /** Rounds in a row that could not read the outbox: the place on `STORE_BACKOFF`. */
  #storeFailures = 0;
  readonly #entryBackoff: Backoff;

  constructor(options: OutboxSenderOptions) {
    this.#options = options;
    const { baseMs, maxMs } = options.retry ?? DEFAULT_ENTRY_RETRY;
    this.#entryBackoff = new Backoff({ base: baseMs, factor: 2, max: maxMs, jitter: 0.2 }, 'outbox sender retry');
    this.#channels = new Map(options.channels.map((channel) => [channel.name, channel]));
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  /** Looks at the outbox now (a page was just enqueued). */
  wake(): void {
    this.#woken = true;
    this.#wake?.();
  }

  /** Stops claiming, waits for the round in flight to finish and be marked. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    await this.#flushUnrecorded().catch(() => {});
    for (const channel of this.#channels.values()) await channel.close?.().catch(() => {});
  }

  /** One round: marks what is unrecorded, claims a batch and sends it, channels side by side. Resolves with the number sent. */
  async round(): Promise<number> {
    await this.#flushUnrecorded();
    const { outbox, leaseMs = 60_000, batch = 20 } = this.#options;
    const entries = await outbox.claim(batch, leaseMs);
    const byChannel = new Map<string, OutboxEntryLike[]>();
    for (const entry of entries) byChannel.set(entry.channel, [...(byChannel.get(entry.channel) ?? []), entry]);
    const counts = await Promise.all([...byChannel].map(([name, list]) => this.#sendAll(name, list)));
    return counts.reduce((a, b) => a + b, 0);
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let delay = this.#options.pollMs ?? 1_000;
      try {
        const sent = await this.round();
        this.#storeFailures = 0;
        if (sent > 0) delay = 0; // there may be more
      } catch (error) {
        this.#storeFailures += 1;
        delay = Math.max(delay, STORE_BACKOFF.delay(this.#storeFailures));
        this.#options.logger.warn({ err: { message: (error as Error).message }, retryInMs: delay }, 'could not read the alert outbox; retrying');
      }
      if (this.#running && !this.#woken && delay > 0) await this.#sleep(delay);
      this.#woken = false;
    }
  }

  async #sendAll(name: string, entries: readonly OutboxEntryLike[]): Promise<number> {
    const { outbox, logger } = this.#options;
    const channel = this.#channels.get(name);
    const limit = this.#limitOf(name);
    let used = limit ? await outbox.sentWithin(name, limit.perMs) : undefined;
    let sent = 0;
    for (const entry of entries) {
      if (channel === undefined) {
        await outbox.markFailed(entry.id, `channel "${name}" is not configured in this alerter`, this.#entryBackoff.maxMs);
        logger.warn({ channel: name, entry: entry.id }, `an alert waits for channel "${name}", which this alerter does not have; configure it or delete the entry`);
        continue;
      }
      if (limit && used && used.count >= limit.max) {
        const oldest = used.oldest ? Date.parse(used.oldest) : Date.now();
        await outbox.postpone(entry.id, Math.max(1_000, oldest + limit.perMs - Date.now()));
        continue;
      }
      const alert = readAlert(entry.alert);
      if (alert === undefined) {
        await outbox.markFailed(entry.id, 'not an alert (unknown kind)', this.#entryBackoff.maxMs);
        continue;
      }
      try {
        await deliverInSpan(channel, alert, entry);
      } catch (error) {
        const delay = this.#entryBackoff.delay(entry.attempts);
        logger.warn({ channel: name, entry: entry.id, attempts: entry.attempts, retryInMs: delay, err: { message: (error as Error).message } }, `alert not delivered to ${name}; it stays in the outbox`);
        this.#options.onFailed?.(name, error as Error);
        await outbox.markFailed(entry.id, (error as Error).message, delay);
        continue;
      }
      sent += 1;
      this.#options.onSent?.(name);
      if (used) used = { count: used.count + 1, oldest: used.oldest ?? new Date().toISOString() };
      try {
        await outbox.markSent(entry.id);
      } catch {
        this.#unrecorded.add(entry.id);
      }
    }
    return sent;
  }

  async #flushUnrecorded(): Promise<void> {
    for (const id of [...this.#unrecorded]) {
      await this.#options.outbox.markSent(id);
      this.#unrecorded.delete(id);
    }
  }

  #limitOf(name: string): RateLimit | undefined {
    const configured = this.#options.rateLimits;
    if (configured && Object.hasOwn(configured, name)) return configured[name];
    return name === 'log' ? undefined : DEFAULT_RATE_LIMIT;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }
}
