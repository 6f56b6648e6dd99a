import { redactUrl, type AnyApp, type Logger, type NightshiftConfig } from '@nightshift/core';
import type { Client } from '@nightshift/broker';
import {
  compileScheduleEntries, describeSchedule, describeMisfire, entryQueue, entryZone, formatInZone, nextFireTime, type ScheduleEntry,
} from '@nightshift/schedule';
import { ScheduleRecords, Store, type StoreOptions } from '@nightshift/store';
import type { Meter } from '@nightshift/telemetry';
import type { Redis } from 'ioredis';
import { Beat } from './beat.ts';
import { connectBroker, connectRedis } from './connections.ts';
import { codeEntrySource, type EntrySource } from './entry-source.ts';
import { PostgresEntrySource } from './postgres-entry-source.ts';
import { BeatMetrics } from './metrics.ts';
import { compileBeatOptions, type BeatOptions } from './options.ts';

export interface BeatServiceOptions extends BeatOptions {
  readonly app: AnyApp;
  readonly config: NightshiftConfig;
  readonly log: Logger;
  /** Where beat's metrics go: `telemetry.meter`. */
  readonly meter: Meter;
  /** Aborting it gives up waiting for RabbitMQ at start-up. */
  readonly signal?: AbortSignal;
  /**
   * The PostgreSQL store holding the runtime schedules and every entry's state (paused or not). Without it beat
   * dispatches the code's entries only. While it is unreachable beat dispatches the code's entries and the runtime
   * entries it last read, and applies changes once it answers. Default: none.
   */
  readonly store?: StoreOptions;
}

/** A running beat replica and what it holds open. */
export interface BeatService {
  readonly beat: Beat;
  readonly entries: readonly ScheduleEntry[];
  readonly client: Client<AnyApp>;
  readonly redis: Redis;
  /** Stops dispatching, releases the lease, closes the broker and Redis connections. */
  stop(): Promise<void>;
}

/**
 * Builds and starts one beat replica: validates the app's schedule (every bad entry named), logs the zone
 * and each entry, connects Redis and RabbitMQ, declares each entry's queue, and starts competing for the lease.
 * @throws ConfigError for a bad schedule entry or option, before anything is connected.
 */
export async function startBeatService(options: BeatServiceOptions): Promise<BeatService> {
  const { app, config, log } = options;
  const settings = compileBeatOptions(options, config.publishTimeoutMs);
  const entries = compileScheduleEntries(app.schedule, app.tasks.map((task) => task.name));
  log.info({ app: app.name, timezone: app.timezone, entries: entries.length, replica: settings.replica, leaseTtlMs: settings.leaseTtlMs, prefix: config.prefix },
    `beat for app "${app.name}": ${entries.length} schedule entries, timezone ${app.timezone}`);
  const now = Date.now();
  for (const entry of entries) {
    const zone = entryZone(entry, app.timezone);
    const next = nextFireTime(entry.schedule, now, zone);
    log.info({ entry: entry.name, task: entry.task, misfire: describeMisfire(entry.misfire), next: new Date(next).toISOString() },
      `entry ${entry.name}: ${describeSchedule(entry.schedule, zone)}; next ${formatInZone(next, zone)}`);
  }

  // Nothing connects here: the pool opens its connections when the entries are first read.
  const store = options.store === undefined ? undefined : new Store(options.store);
  const source: EntrySource = store === undefined ? codeEntrySource(entries) : new PostgresEntrySource(new ScheduleRecords(store), app, entries, log);
  if (store !== undefined) log.info({ database: redactUrl(store.url), schema: store.schema }, 'runtime schedules and pauses come from PostgreSQL');
  const redis = connectRedis(config.redisUrl, settings, log);
  let client: Client<AnyApp>;
  try {
    client = await connectBroker(config, app, settings, log, options.signal);
    // Declared now, so a run waits in its queue even before any worker started, and the first send is not slower.
    for (const queue of new Set(entries.map((entry) => entryQueue(app, entry)))) await client.broker.ensureQueue(queue);
  } catch (error) {
    redis.disconnect();
    await store?.close();
    throw error;
  }
  const metrics = new BeatMetrics(options.meter, { replica: settings.replica, codeEntries: entries.map((entry) => entry.name), entryLabels: settings.entryLabels, log });
  const beat = new Beat({ app, entries, source, redis, client, settings, metrics, log, prefix: config.prefix, redisUrl: config.redisUrl });
  beat.start();
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    await beat.stop();
    await client.close().catch(() => {});
    await store?.close();
    await redis.quit().catch(() => redis.disconnect());
  };
  return { beat, entries, client, redis, stop: () => (stopping ??= stop()) };
}

