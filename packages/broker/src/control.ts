import { randomUUID } from 'node:crypto';
import type { Channel } from 'amqplib';
import type { Broker } from './broker.ts';
import type { Subscription } from './subscription.ts';

/**
 * Remote-control commands a worker answers: queries (`ping` … `registered`), `revoke`, and the worker controls
 * (`shutdown`, `pool-restart`, `pool-grow`/`pool-shrink` `{ n }`, `autoscale` `{ min, max }`,
 * `add-consumer`/`cancel-consumer` `{ queue }`, `rate-limit` `{ task, rate }`), which reply `{ ok, … }`.
 */
export type ControlCommand = 'ping' | 'active' | 'reserved' | 'stats' | 'registered' | 'revoke'
  | 'shutdown' | 'pool-restart' | 'pool-grow' | 'pool-shrink' | 'autoscale' | 'add-consumer' | 'cancel-consumer' | 'rate-limit';

export interface ControlRequest {
  readonly command: ControlCommand;
  readonly args: Readonly<Record<string, unknown>>;
  /** Worker names that should answer; everyone when absent. */
  readonly destination?: readonly string[];
}

export interface ControlReply {
  readonly worker: string;
  readonly command: ControlCommand;
  readonly reply: unknown;
}

const REPLY_TO = 'amq.rabbitmq.reply-to';

/**
 * Answers control commands broadcast on the `control` fanout exchange, through an exclusive queue of this
 * worker. `answer` returns the reply (or `undefined` to stay silent); replies go back by direct reply-to.
 */
export async function serveControl(broker: Broker, worker: string, answer: (request: ControlRequest) => Promise<unknown> | unknown): Promise<Subscription> {
  const queue = `${broker.names.control}.${worker}`;
  // Auto-delete: after a reconnect the queue is gone, so the subscription declares it before every resume.
  const declare = async (channel: Channel): Promise<void> => {
    await channel.assertQueue(queue, { exclusive: false, autoDelete: true, durable: false, arguments: { 'x-expires': 60_000 } });
    await channel.bindQueue(queue, broker.names.control, '');
  };
  return broker.consumeRaw(queue, async (delivery) => {
    const { message } = delivery;
    delivery.ack();
    let request: ControlRequest;
    try {
      request = JSON.parse(message.content.toString('utf8')) as ControlRequest;
    } catch {
      return;
    }
    if (request.destination && !request.destination.includes(worker)) return;
    const reply = await answer(request);
    const replyTo = message.properties.replyTo as string | undefined;
    if (reply === undefined || !replyTo) return;
    const body: ControlReply = { worker, command: request.command, reply };
    await broker.publisher.publish('', replyTo, Buffer.from(JSON.stringify(body)), {
      persistent: false,
      correlationId: message.properties.correlationId as string,
      contentType: 'application/json',
    }).catch(() => {});
  }, { prefetch: 4, declare });
}

export interface BroadcastOptions {
  /** How long to collect replies. Default: `1000` ms. */
  timeoutMs?: number;
  /** Only these workers answer. */
  destination?: readonly string[];
  /** Stop as soon as this many replies arrived. */
  limit?: number;
}

/** Broadcasts a command to every worker and collects the replies that arrive within the timeout. */
export async function broadcastControl(broker: Broker, command: ControlCommand, args: Record<string, unknown> = {}, options: BroadcastOptions = {}): Promise<ControlReply[]> {
  const timeoutMs = options.timeoutMs ?? 1_000;
  const correlationId = randomUUID();
  const replies: ControlReply[] = [];
  const channel = await broker.createChannel();
  channel.on('error', () => {});
  try {
    let finish: () => void = () => {};
    const done = new Promise<void>((resolve) => { finish = resolve; });
    await channel.consume(REPLY_TO, (message) => {
      if (!message || message.properties.correlationId !== correlationId) return;
      try {
        replies.push(JSON.parse(message.content.toString('utf8')) as ControlReply);
      } catch {
        return;
      }
      if (options.limit !== undefined && replies.length >= options.limit) finish();
    }, { noAck: true });
    const request: ControlRequest = { command, args, ...(options.destination ? { destination: options.destination } : {}) };
    channel.publish(broker.names.control, '', Buffer.from(JSON.stringify(request)), { replyTo: REPLY_TO, correlationId, persistent: false, contentType: 'application/json' });
    const timer = setTimeout(finish, timeoutMs);
    await done;
    clearTimeout(timer);
    return replies;
  } finally {
    await channel.close().catch(() => {});
  }
}
