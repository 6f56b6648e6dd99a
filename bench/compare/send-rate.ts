// The producer's floor: raw amqplib confirmed publishes, 200 in flight, each waited on by its own callback.
import { connect } from 'amqplib';
import { randomPrefix } from '@nightshift/test-helpers';

const WINDOW = 200;

/** Confirmed publishes per second into a quorum queue, 200 in flight. */
export async function rawSendRate(amqpUrl: string, count: number): Promise<number> {
  const connection = await connect(amqpUrl, { noDelay: true });
  try {
    const channel = await connection.createConfirmChannel();
    const queue = `${randomPrefix('send-floor')}.q`;
    await channel.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    const publish = (i: number) => new Promise<void>((resolve, reject) => {
      channel.publish('', queue, Buffer.from(JSON.stringify({ i })), { persistent: true }, (error) => (error ? reject(error as Error) : resolve()));
    });
    const started = performance.now();
    for (let sent = 0; sent < count; sent += WINDOW) {
      await Promise.all(Array.from({ length: Math.min(WINDOW, count - sent) }, (_, i) => publish(sent + i)));
    }
    const rate = count / ((performance.now() - started) / 1000);
    await channel.deleteQueue(queue);
    return rate;
  } finally {
    await connection.close();
  }
}
