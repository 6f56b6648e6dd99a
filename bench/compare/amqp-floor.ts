// The floor: raw amqplib publishing with confirms into a quorum queue while a consumer (prefetch 50)
// acks each message as it arrives. No envelope, no events, no sandbox: what the broker alone allows.
import { connect } from 'amqplib';
import { randomPrefix } from '@nightshift/test-helpers';

const WINDOW = 200;

/** Messages per second, first publish to last ack. */
export async function amqpFloor(amqpUrl: string, count: number): Promise<number> {
  const connection = await connect(amqpUrl, { noDelay: true });
  try {
    const publisher = await connection.createConfirmChannel();
    const consumer = await connection.createChannel();
    const queue = `${randomPrefix('floor')}.q`;
    await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await consumer.prefetch(50);
    let acked = 0;
    const consumed = new Promise<number>((resolve) => {
      void consumer.consume(queue, (message) => {
        if (!message) return;
        consumer.ack(message);
        if (++acked === count) resolve(performance.now());
      });
    });
    const started = performance.now();
    for (let sent = 0; sent < count; sent += WINDOW) {
      const batch = Math.min(WINDOW, count - sent);
      for (let i = 0; i < batch; i++) publisher.publish('', queue, Buffer.from(JSON.stringify({ i })), { persistent: true });
      await publisher.waitForConfirms();
    }
    const finished = await consumed;
    await publisher.deleteQueue(queue);
    return count / ((finished - started) / 1000);
  } finally {
    await connection.close();
  }
}
