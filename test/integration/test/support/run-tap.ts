import { connect, type ChannelModel } from 'amqplib';
import { decode, type TaskEnvelope } from '@nightshift/core';

/** A task message read off its work queue. */
export interface TappedRun {
  readonly queue: string;
  readonly messageId: string;
  readonly envelope: TaskEnvelope;
  readonly receivedAt: number;
}

/** The schedule origin of a run: who sent it (`beat`, `manual`, `backfill`), for which entry and fire time, and by whom. */
export function originOf(run: TappedRun): { type: string; entry: string; fireMs: number; by: string | undefined } {
  const origin = run.envelope.origin as { type: string; beat?: string; scheduledFor?: string; by?: string };
  return { type: origin.type, entry: origin.beat ?? '', fireMs: Date.parse(origin.scheduledFor ?? ''), by: origin.by };
}

/**
 * Consumes work queues that no worker takes (acking everything) and keeps every message, as RabbitMQ delivered
 * it: what beat, a run now and a backfill really sent.
 */
export class RunTap {
  readonly #runs: TappedRun[] = [];
  readonly #connection: ChannelModel;
  /** Why what it read cannot be trusted (it stopped reading, or read a message that is not a task's), if so. */
  #broken: string | undefined;
  #closing = false;

  private constructor(connection: ChannelModel) {
    this.#connection = connection;
  }

  /** Starts consuming `<prefix>.q.<queue>` for each queue (they must exist). */
  static async open(amqpUrl: string, prefix: string, queues: readonly string[]): Promise<RunTap> {
    const connection = await connect(amqpUrl);
    const tap = new RunTap(connection);
    const channel = await connection.createChannel();
    // A tap that stopped reading (another suite restarted RabbitMQ) would look like runs not sent: say so instead.
    channel.on('error', (error: Error) => (tap.#broken ??= `its channel failed: ${error.message}`));
    connection.on('error', (error: Error) => (tap.#broken ??= `its connection failed: ${error.message}`));
    channel.on('close', () => (tap.#broken ??= tap.#closing ? undefined : 'its channel closed'));
    for (const queue of queues) {
      await channel.consume(`${prefix}.q.${queue}`, (message) => {
        if (message === null) {
          tap.#broken ??= `RabbitMQ cancelled its consumer of ${queue}`;
          return;
        }
        const decoded = decode(message.content);
        if (!decoded.ok) tap.#broken ??= `an undecodable message on ${queue}: ${decoded.error.message}`;
        else tap.#runs.push({ queue, messageId: String(message.properties.messageId), envelope: decoded.envelope, receivedAt: Date.now() });
      }, { noAck: true });
    }
    return tap;
  }

  /** What arrived on `queue`, in order of arrival. Throws when the tap cannot be trusted, rather than report runs missing. */
  runs(queue: string): TappedRun[] {
    if (this.#broken !== undefined) throw new Error(`the tap of the work queues cannot be trusted: ${this.#broken}`);
    return this.#runs.filter((run) => run.queue === queue);
  }

  async close(): Promise<void> {
    this.#closing = true;
    await this.#connection.close().catch(() => {});
  }
}
