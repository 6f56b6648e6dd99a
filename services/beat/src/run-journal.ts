import { randomUUID } from 'node:crypto';
import type { Logger } from '@nightshift/core';
import type { Broker } from '@nightshift/broker';
import { runId } from '@nightshift/beat-state';

// The broker's own channel types (amqplib is not a dependency of beat's).
type Channel = Awaited<ReturnType<Broker['createChannel']>>;
type ConsumeMessage = NonNullable<Parameters<Parameters<Channel['consume']>[1]>[0]>;

/**
 * The routing key the journal is bound to on the tasks exchange. A colon is not allowed in a queue name, so no work
 * queue's routing key can ever be routed to the journal.
 */
export const JOURNAL_KEY = 'beat:journal';
/**
 * The `BCC` header of every run beat publishes (RabbitMQ's sender-selected distribution): the broker routes the one
 * publish to the run's queue and to the journal in the same routing step, and strips the header from both copies.
 */
export const JOURNAL_BCC: readonly string[] = Object.freeze([JOURNAL_KEY]);

/** How long the journal keeps a run. A run claimed longer ago than this (less the margin) is not looked up. */
const RETENTION_MS = 60 * 60_000;
/**
 * Retention drops whole segments: small ones keep the journal near its hour (runs are copied whole, so at 2,000 runs
 * a minute a segment of 4 MB holds a few minutes).
 */
const SEGMENT_BYTES = 4_000_000;
/**
 * The journal is read from this long before the earliest stranded claim. Its timestamps are the broker's clock, the
 * claims beat's: the margin covers the skew between the two (and beat's own time from claim to publish).
 */
const READ_MARGIN_MS = 5 * 60_000;
/** Unacknowledged deliveries while reading (a stream consumer over AMQP 0-9-1 needs a prefetch and manual acks). */
const READ_PREFETCH = 1_000;
const READ_TIMEOUT_MS = 5_000;

/** A run another leader claimed and neither sent nor counted, as `RunLedger.stranded` reports it. */
export interface StrandedClaim {
  readonly entry: string;
  readonly scheduledForMs: number;
  /** When it was claimed (the claiming leader's clock). */
  readonly claimedAtMs?: number;
  /** The claiming leader had declared the journal before it claimed the run, so its publish was journalled. */
  readonly journaled: boolean;
  /**
   * Claimed ahead of its fire time, before its entry was read again for changes: it is sent no sooner than it is due,
   * and only if its entry, read then, still sends it.
   */
  readonly ahead?: boolean;
}

/** Where each stranded run stands, as the journal tells. */
export interface SortedClaims {
  /** Reached the broker (routed to its queue) before the leader died: not to be sent again. */
  readonly routed: readonly (StrandedClaim & { readonly sentAtMs: number })[];
  /** Certainly not routed (the journal was read to its end): to be sent, unmarked. */
  readonly unrouted: readonly StrandedClaim[];
  /** The journal cannot tell (it could not be read, or the run predates it): sent again marked, as before. */
  readonly unknown: readonly StrandedClaim[];
}

/**
 * The beat journal: a RabbitMQ stream that gets a copy of every run beat publishes, routed by the broker together with
 * the run itself (see `JOURNAL_BCC`). A run is in the journal if and only if it was routed to its queue. A new leader
 * reads it for the runs the previous one claimed and died before recording: those it finds were sent and are not sent
 * again; the others were not (that leader's connection closed long before its lease lapsed) and are sent, unmarked.
 * Nothing depends on the journal for sending: a journal that cannot be declared or read only brings back the second,
 * marked copies of the runs in flight at a crash.
 */
export class RunJournal {
  readonly #broker: Broker;
  readonly #log: Logger;
  readonly queue: string;

  constructor(broker: Broker, log: Logger) {
    this.#broker = broker;
    this.#log = log;
    this.queue = broker.names.beatJournal;
  }

  /**
   * Declares the journal and binds it to the tasks exchange. `true` once it exists: only runs claimed after that are
   * looked up in it (an older beat's, or this one's before, were published without a journal). Never throws.
   */
  async declare(): Promise<boolean> {
    try {
      await this.#broker.withChannel(async (channel) => {
        await channel.assertQueue(this.queue, {
          durable: true,
          arguments: { 'x-queue-type': 'stream', 'x-max-age': `${RETENTION_MS / 1000}s`, 'x-stream-max-segment-size-bytes': SEGMENT_BYTES },
        });
        await channel.bindQueue(this.queue, this.#broker.names.tasks, JOURNAL_KEY);
      });
      return true;
    } catch (error) {
      this.#log.warn({ journal: this.queue, err: { message: (error as Error).message } }, 'could not declare the beat journal; if this leader dies, the runs it has in flight are sent again, marked');
      return false;
    }
  }

  /** Sorts stranded runs by what the journal says of them. Never throws: a journal it cannot read leaves them `unknown`. */
  async sort(claims: readonly StrandedClaim[], nowMs = Date.now()): Promise<SortedClaims> {
    const oldest = nowMs - RETENTION_MS + READ_MARGIN_MS;
    const known = claims.filter((claim) => claim.journaled && claim.claimedAtMs !== undefined && claim.claimedAtMs > oldest);
    const unknown = claims.filter((claim) => !known.includes(claim));
    if (known.length === 0) return { routed: [], unrouted: [], unknown };
    const sinceMs = Math.min(...known.map((claim) => claim.claimedAtMs as number)) - READ_MARGIN_MS;
    let seen: Map<string, number | undefined>;
    try {
      seen = await this.#read(sinceMs);
    } catch (error) {
      this.#log.warn({ journal: this.queue, runs: known.length, err: { message: (error as Error).message } },
        `could not read the beat journal (${(error as Error).message}): the stranded runs are sent again, marked as possibly second copies`);
      return { routed: [], unrouted: [], unknown: claims };
    }
    const routed: (StrandedClaim & { sentAtMs: number })[] = [];
    const unrouted: StrandedClaim[] = [];
    for (const claim of known) {
      const id = runId(claim.entry, claim.scheduledForMs);
      if (!seen.has(id)) {
        unrouted.push(claim);
        continue;
      }
      // The message's timestamp is whole seconds: never before the claim.
      const stamped = seen.get(id);
      routed.push({ ...claim, sentAtMs: Math.max(claim.claimedAtMs as number, stamped ?? 0) });
    }
    this.#log.info({ routed: routed.length, unrouted: unrouted.length, unknown: unknown.length, journalReadFrom: new Date(sinceMs).toISOString(), journalMessages: seen.size },
      `the beat journal says ${routed.length} of the ${known.length} runs the previous leader left unrecorded reached the broker (recorded sent, not sent again) and ${unrouted.length} did not`);
    return { routed, unrouted, unknown };
  }

  /**
   * The ids in the journal from `sinceMs` to its end, with each message's timestamp (ms). Its end is a marker published
   * now (confirmed): every run routed before is ahead of it in the stream.
   */
  async #read(sinceMs: number): Promise<Map<string, number | undefined>> {
    const channel = await this.#broker.createChannel();
    channel.on('error', () => {});
    const marker = `beat-journal-marker:${randomUUID()}`;
    const seen = new Map<string, number | undefined>();
    let timer: NodeJS.Timeout | undefined;
    try {
      await channel.prefetch(READ_PREFETCH);
      const reachedMarker = new Promise<void>((resolve, reject) => {
        timer = setTimeout(() => reject(new Error(`its end was not reached within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
        channel.once('close', () => reject(new Error('the channel closed while reading it')));
        channel.consume(this.queue, (message: ConsumeMessage | null) => {
          if (message === null) {
            reject(new Error('the broker cancelled the read'));
            return;
          }
          ack(channel, message);
          const id = message.properties.messageId as unknown;
          if (id === marker) resolve();
          else if (typeof id === 'string') seen.set(id, typeof message.properties.timestamp === 'number' ? message.properties.timestamp * 1000 : undefined);
        }, { noAck: false, arguments: { 'x-stream-offset': { '!': 'timestamp', value: Math.floor(sinceMs / 1000) } } }).catch(reject);
      });
      // Either failing fails the read at once (the timeout covers a marker the broker is slow to confirm, too).
      await Promise.all([
        this.#broker.publisher.publish(this.#broker.names.tasks, JOURNAL_KEY, Buffer.alloc(0), { messageId: marker, mandatory: true }),
        reachedMarker,
      ]);
      return seen;
    } finally {
      clearTimeout(timer);
      await channel.close().catch(() => {});
    }
  }
}

function ack(channel: Channel, message: ConsumeMessage): void {
  try {
    channel.ack(message);
  } catch {
    // The channel is closing: the read fails on its own.
  }
}
