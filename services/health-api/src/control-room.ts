import { hostname } from 'node:os';
import { Broker, brokerOptions, EventPublisher } from '@nightshift/broker';
import { resolveTaskSettings, type AnyApp, type Logger } from '@nightshift/core';
import type { ScheduleOperations } from '@nightshift/client';
import { ControlActions, DeadLetters, migrateWhenReachable, ScheduleHealthRecords, ScheduleRecords, Store, TaskRuns } from '@nightshift/store';
import type { Meter, RedactOptions } from '@nightshift/telemetry';
import type { HealthApiConfig } from './config.ts';
import { backgroundHealth, workersHealth, type BackgroundHealth, type WorkersHealth } from './health.ts';
import { HistoryRecorder } from './history/recorder.ts';
import { HistoryRetention } from './history/retention.ts';
import { BeatLease } from './live/beat-lease.ts';
import { BeatStatus } from './live/beat-status.ts';
import { LiveFeed } from './live/live-feed.ts';
import { ManagementRates } from './live/queue-rates.ts';
import { StatePoller } from './live/state-poller.ts';
import { WorkerLiveness } from './live/worker-liveness.ts';
import { WorkerRegistry } from './live/worker-registry.ts';
import { RemoteControl } from './remote-control.ts';
import { healthApiMetrics } from './metrics.ts';
import { roomSchedules } from './room-schedules.ts';
import { entryHealthView, type EntryHealthView } from './schedule-health.ts';

export interface ControlRoomOptions {
  readonly config: HealthApiConfig;
  readonly logger: Logger;
  readonly meter: Meter;
  /** The app (`--app`): its tasks can be sent by name, its queues are polled, its schedule is shown. Default: none. */
  readonly app?: AnyApp;
  /** Aborting it gives up a start still waiting for PostgreSQL. */
  readonly signal?: AbortSignal;
}

/** Every part the HTTP layer reads from: connections, history, live state, and the health verdicts. */
export interface ControlRoom {
  readonly config: HealthApiConfig;
  readonly logger: Logger;
  readonly app: AnyApp | undefined;
  readonly broker: Broker;
  readonly store: Store;
  readonly taskRuns: TaskRuns;
  /** Runtime schedules, every entry's state, each fire time's fate. */
  readonly scheduleRecords: ScheduleRecords;
  /** The operations on the app's schedule (as the client library and the CLI have them); none without an app. */
  readonly schedules: ScheduleOperations | undefined;
  readonly deadLetters: DeadLetters;
  readonly registry: WorkerRegistry;
  /** Worker controls and revokes, each recorded in `controlActions`. */
  readonly remote: RemoteControl;
  readonly controlActions: ControlActions;
  readonly beat: BeatStatus;
  readonly feed: LiveFeed;
  readonly poller: StatePoller;
  readonly recorder: HistoryRecorder;
  readonly retention: HistoryRetention;
  /** For `task.sent` events of tasks sent from the API. */
  readonly events: EventPublisher;
  readonly redaction: RedactOptions;
  workersHealth(): WorkersHealth;
  backgroundHealth(): BackgroundHealth;
  /** How a schedule entry is doing, as the alerter last judged it (from the last poll); `null` when it was not judged. */
  scheduleHealthOf(entry: string): EntryHealthView | null;
  /** Stops recording and polling, closes the connections. Idempotent. */
  stop(): Promise<void>;
}

/** Connects to PostgreSQL (migrating, waiting while it is unreachable) and RabbitMQ, and starts the recorder and the live state. */
export async function startControlRoom(options: ControlRoomOptions): Promise<ControlRoom> {
  const { config, logger, app } = options;
  const store = new Store({ url: config.core.databaseUrl, schema: config.schema, applicationName: 'nightshift health-api', maxConnections: 8 });
  await migrateWhenReachable(store, { logger, signal: options.signal });
  let broker: Broker;
  try {
    broker = await Broker.connect(brokerOptions(config.core, `nightshift health-api@${hostname()}`, logger));
  } catch (error) {
    await store.close();
    throw error;
  }
  const redaction: RedactOptions = { keys: config.core.redactKeys, values: config.secretValues };
  const taskRuns = new TaskRuns(store);
  const scheduleRecords = new ScheduleRecords(store);
  const deadLetters = new DeadLetters(store);
  const registry = new WorkerRegistry(config.heartbeatMs);
  const liveness = new WorkerLiveness(broker, registry, logger);
  const controlActions = new ControlActions(store);
  const remote = new RemoteControl({
    broker, actions: controlActions, taskRuns, redisUrl: config.core.redisUrl, prefix: config.core.prefix, app, onlineWorkers: () => registry.online().length,
  });
  const lease = new BeatLease(config.core.redisUrl, config.core.prefix, logger);
  const beat = new BeatStatus(app, config.thresholds.beatGraceMs, lease);
  const feed = new LiveFeed(broker, registry, beat);
  const appQueues = app ? [...new Set(app.tasks.map((task) => resolveTaskSettings(app, task).queue))] : [];
  const rates = config.rabbitmqManagement ? new ManagementRates(config.rabbitmqManagement.url, config.rabbitmqManagement.vhost, logger) : undefined;
  const poller = new StatePoller({
    broker, taskRuns, deadLetters, scheduleHealth: new ScheduleHealthRecords(store), registry, feed, lease, rates, logger, appQueues,
    pollMs: config.pollMs, windowMs: config.thresholds.windowMs,
  });
  const events = new EventPublisher(broker);
  const schedules = app ? roomSchedules({ app, broker, events, store, redisUrl: config.core.redisUrl, prefix: config.core.prefix, logger }) : undefined;
  const health = {
    workers: () => workersHealth(registry.online(), config.heartbeatMs),
    background: () => backgroundHealth(poller.snapshot, registry.list(), beat.view(), beat.scheduled, config.thresholds, config.heartbeatMs),
  };
  const metrics = healthApiMetrics(options.meter, {
    snapshot: () => poller.snapshot,
    workersOnline: () => registry.online().length,
    health: () => ({ workers: health.workers().status, background: health.background().status }),
  });
  const recorder = new HistoryRecorder({ broker, taskRuns, scheduleRecords, logger, redaction, queueLength: config.historyQueueLength, onCommitted: (n, lags) => metrics.recorded(n, lags) });
  const retention = new HistoryRetention({ taskRuns, scheduleRecords, logger, retentionMs: config.retentionMs });
  await events.ready();
  await feed.start();
  await recorder.start();
  await poller.start();
  retention.start();
  liveness.start();

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    await liveness.stop();
    remote.close();
    await poller.stop();
    await retention.stop();
    await recorder.stop();
    await feed.stop();
    await events.close();
    await broker.close();
    await store.close();
    await lease.close();
    await schedules?.close();
  };
  return {
    config, logger, app, broker, store, taskRuns, scheduleRecords, schedules: schedules?.schedules, deadLetters, registry, remote, controlActions, beat, feed, poller, recorder, retention, events, redaction,
    workersHealth: health.workers, backgroundHealth: health.background,
    scheduleHealthOf: (entry) => entryHealthView(poller.snapshot.schedules?.get(entry)),
    stop: () => (stopping ??= stop()),
  };
}
