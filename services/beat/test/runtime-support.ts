import { connect } from 'amqplib';
import type { NightshiftConfig } from '@nightshift/core';
import { Broker, brokerOptions } from '@nightshift/broker';
import { migrate, quoteIdent, ScheduleRecords, Store } from '@nightshift/store';
import { randomPrefix, requireServices } from '@nightshift/test-helpers';

/** A migrated store in its own random schema, with its schedules; `cleanup` drops the schema. */
export async function runtimeStore(options: { migrated?: boolean } = {}): Promise<{ store: Store; records: ScheduleRecords; url: string; cleanup: () => Promise<void> }> {
  const { databaseUrl } = await requireServices('postgres');
  const store = new Store({ url: databaseUrl, schema: randomPrefix('beat') });
  if (options.migrated ?? true) await migrate(store);
  return {
    store, records: new ScheduleRecords(store), url: databaseUrl,
    cleanup: async () => {
      await store.query(`DROP SCHEMA IF EXISTS ${quoteIdent(store.schema)} CASCADE`).catch(() => {});
      await store.close();
    },
  };
}

/** Declares work queues, so that runs wait there for a tap opened after beat started. */
export async function declareQueues(config: NightshiftConfig, queues: readonly string[]): Promise<void> {
  const setup = await Broker.connect(brokerOptions(config, 'beat-test-setup'));
  try {
    for (const queue of queues) await setup.ensureQueue(queue);
  } finally {
    await setup.close();
  }
}

/** The lifecycle events of the given types published under the prefix, from now on (a batch counts as its events). */
export async function eventTap(config: NightshiftConfig, types: readonly string[]): Promise<{ events: Record<string, unknown>[]; close: () => Promise<void> }> {
  const connection = await connect(config.amqpUrl);
  const channel = await connection.createChannel();
  const { queue } = await channel.assertQueue('', { exclusive: true, autoDelete: true });
  for (const type of types) await channel.bindQueue(queue, `${config.prefix}.events`, type);
  const events: Record<string, unknown>[] = [];
  await channel.consume(queue, (message) => {
    if (!message) return;
    const parsed = JSON.parse(message.content.toString('utf8')) as Record<string, unknown> | Record<string, unknown>[];
    events.push(...(Array.isArray(parsed) ? parsed : [parsed]));
  }, { noAck: true });
  return { events, close: () => connection.close().catch(() => {}) };
}

/** How many fire times the `beat.missed` events of `entry` count for `reason`. */
export function missedCount(events: readonly Record<string, unknown>[], entry: string, reason: string): number {
  return events.filter((e) => e.type === 'beat.missed' && e.entry === entry && e.reason === reason).reduce((sum, e) => sum + Number(e.count), 0);
}

/** Every fire time (ms) the `beat.missed` events of `entry` stand for, with their reason: each second of `from`..`through`. */
export function missedSeconds(events: readonly Record<string, unknown>[], entry: string): Map<number, string> {
  const seconds = new Map<number, string>();
  for (const e of events) {
    if (e.type !== 'beat.missed' || e.entry !== entry) continue;
    for (let at = Date.parse(String(e.scheduledFor)); at <= Date.parse(String(e.through)); at += 1_000) seconds.set(at, String(e.reason));
  }
  return seconds;
}
