import { hostname } from 'node:os';
import { Broker, brokerOptions } from '@nightshift/broker';
import { emailChannel, logChannel, OutboxSender, slackChannel, summaryAlert, type AlertChannel, type AlertOptions } from '@nightshift/alerts';
import { AlertOutbox, closeAlertWindows, DeadLetters, migrateWhenReachable, Store, type MigrationResult } from '@nightshift/store';
import type { AnyApp, Logger } from '@nightshift/core';
import type { Meter } from '@nightshift/telemetry';
import type { AlerterConfig } from './config.ts';
import { every } from './every.ts';
import { DeadLetterIntake } from './intake.ts';
import { alerterMetrics } from './metrics.ts';
import { ScheduleWatch } from './schedule-watch/schedule-watch.ts';

export interface AlerterOptions {
  readonly config: AlerterConfig;
  readonly logger: Logger;
  readonly meter: Meter;
  /**
   * The app (`--app`): its schedule's code entries are watched too, with its tasks' time limits, retries and queues.
   * Default: none; the schedule watch then judges runtime entries only, with default task settings.
   */
  readonly app?: AnyApp;
  /** Replaces the channels the configuration names (tests). Default: log, plus Slack and email when configured. */
  readonly channels?: readonly AlertChannel[];
  /** Backoff of alerts a channel failed to take. Default: 2 s doubling to 5 min. */
  readonly retry?: { readonly baseMs: number; readonly maxMs: number };
  /** Dead letters held at once while storing. Default: `20`. */
  readonly prefetch?: number;
  /** Aborting it gives up a start still waiting for PostgreSQL. Default: none. */
  readonly signal?: AbortSignal;
}

/** A running alerter. */
export interface Alerter {
  readonly store: Store;
  readonly broker: Broker;
  readonly deadLetters: DeadLetters;
  readonly migrations: MigrationResult;
  /** The dead man's switch of every schedule entry, failure streaks and missed runs. */
  readonly scheduleWatch: ScheduleWatch;
  /** Stops consuming, lets the sends in flight finish and be marked, closes the connections. Idempotent. */
  stop(): Promise<void>;
}

const STATS_EVERY_MS = 5_000;
const PRUNE_SENT_AFTER_MS = 7 * 24 * 3_600_000;

/**
 * Starts the alerter: migrates the store (waiting for PostgreSQL), connects to RabbitMQ, judges every schedule
 * entry every few seconds (the schedule watch), consumes the dead-letters queue into the store, closes alert
 * windows, and drains the alert outbox through the channels.
 */
export async function startAlerter(options: AlerterOptions): Promise<Alerter> {
  const { config, logger } = options;
  const alertOptions: AlertOptions = {
    redaction: { keys: config.core.redactKeys, values: config.secretValues },
    ...(config.dashboardUrl ? { dashboardUrl: config.dashboardUrl } : {}),
    ...(config.traceUrl ? { traceUrl: config.traceUrl } : {}),
  };
  const channels = options.channels ?? configuredChannels(config, logger);
  const names = channels.map((c) => c.name);
  if (names.length === 1 && names[0] === 'log') {
    logger.warn('no alert channel is configured (NIGHTSHIFT_SLACK_WEBHOOK_URL, or NIGHTSHIFT_SMTP_URL with NIGHTSHIFT_ALERT_EMAIL_FROM and _TO): paging to the log only');
  } else {
    logger.info({ channels: names, windowMs: config.windowMs, rateLimit: config.rateLimit }, `paging to ${names.join(', ')}`);
  }

  const store = new Store({ url: config.core.databaseUrl, schema: config.schema, applicationName: 'nightshift alerter' });
  const migrations = await migrateWhenReachable(store, { logger, signal: options.signal });
  let broker: Broker;
  try {
    broker = await Broker.connect(brokerOptions(config.core, `nightshift alerter@${hostname()}`, logger));
  } catch (error) {
    await store.close();
    throw error;
  }
  const deadLetters = new DeadLetters(store);
  const outbox = new AlertOutbox(store);
  const metrics = alerterMetrics(options.meter, { entryLabels: config.entryLabels, logger });
  const sender = new OutboxSender({
    outbox, channels, logger,
    rateLimits: Object.fromEntries(names.map((name) => [name, name === 'log' ? undefined : config.rateLimit])),
    ...(options.retry ? { retry: options.retry } : {}),
    onSent: (channel) => metrics.sent.add(1, { channel }),
    onFailed: (channel) => metrics.failed.add(1, { channel }),
  });
  const scheduleWatch = new ScheduleWatch({
    app: options.app, store, broker, redisUrl: config.core.redisUrl, prefix: config.core.prefix, logger, alert: alertOptions, channels: names,
    intervalMs: config.scheduleWatchMs, flapWindowMs: config.flapWindowMs, windowMs: config.windowMs, retryLadderMs: config.core.retryLadderMs,
    gauges: metrics.schedules, onPage: () => sender.wake(),
  });
  const intake = new DeadLetterIntake({
    broker, deadLetters, logger, metrics, alert: alertOptions, windowMs: config.windowMs, channels: names,
    ...(options.prefetch ? { prefetch: options.prefetch } : {}), onPage: () => sender.wake(), heldBySchedule: (entry) => scheduleWatch.holds(entry),
  });

  const closeWindows = async () => {
    const { summarized } = await closeAlertWindows(store, { windowMs: config.windowMs, channels: names, summary: (window) => ({ ...summaryAlert(window, alertOptions) }) });
    if (summarized > 0) sender.wake();
  };
  let lastPrune = 0;
  const readStats = async () => {
    metrics.gauges.pending = await deadLetters.pendingCount();
    const stats = await outbox.stats();
    metrics.gauges.outboxDepth = stats.depth;
    metrics.gauges.outboxOldestAgeSeconds = stats.oldestAgeSeconds;
    if (Date.now() - lastPrune > 3_600_000) {
      lastPrune = Date.now();
      await outbox.pruneSent(PRUNE_SENT_AFTER_MS);
    }
  };
  const windowTimer = every(Math.min(5_000, Math.max(100, Math.floor(config.windowMs / 10))), closeWindows, logger, 'closing alert windows');
  const statsTimer = every(STATS_EVERY_MS, readStats, logger, 'reading dead-letter and outbox counts');
  void readStats().catch(() => {});
  sender.start();
  // Judged once before the first dead letter is taken in: the intake must know which entries' streaks it holds.
  await scheduleWatch.start();
  await intake.start();
  logger.info({ queue: broker.names.deadLetters, schema: store.schema }, 'alerter consuming dead letters');

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    await intake.stop();
    await scheduleWatch.stop();
    windowTimer.stop();
    statsTimer.stop();
    await sender.stop();
    await broker.close();
    await store.close();
    logger.info('alerter stopped');
  };
  return { store, broker, deadLetters, migrations, scheduleWatch, stop: () => (stopping ??= stop()) };
}

function configuredChannels(config: AlerterConfig, logger: Logger): AlertChannel[] {
  const channels: AlertChannel[] = [logChannel(logger)];
  if (config.slackWebhookUrl) channels.push(slackChannel({ webhookUrl: config.slackWebhookUrl }));
  if (config.email) channels.push(emailChannel({ smtpUrl: config.email.smtpUrl, from: config.email.from, to: config.email.to }));
  return channels;
}
