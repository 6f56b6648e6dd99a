import { Redis } from 'ioredis';
import { BadParameterError, ConfigError, loadApp, loadConfig, NightshiftError, redactUrl, type AnyApp, type NightshiftConfig } from '@nightshift/core';
import { createClient, type Client } from '@nightshift/broker';
import {
  CodeEntryReadOnlyError, ScheduleConflictError, ScheduleNameTakenError, ScheduleNotFoundError, ScheduleOperations,
} from '@nightshift/client';
import { Store, storeOptions } from '@nightshift/store';
import { waitForBroker } from '../broker-wait.ts';
import { CommandFailure, UsageError, type Io } from '../command.ts';
import { optionOf } from './schedule-input.ts';

/** What a schedule action works with: the operations every caller shares, and the app they know the code's entries from. */
export interface ScheduleContext {
  readonly schedules: ScheduleOperations;
  readonly app: AnyApp;
  /** The `--app` as given, for hints. */
  readonly appPath: string;
}

/**
 * Runs `work` with the schedule operations of the configured installation (NIGHTSHIFT_DATABASE_URL and _SCHEMA,
 * NIGHTSHIFT_REDIS_URL, NIGHTSHIFT_AMQP_URL, NIGHTSHIFT_PREFIX) and the app of `--app`, and closes them after.
 * Each server is connected on first use: at 3 AM, `pause` must work while RabbitMQ is the thing that is down.
 * The refusals of the operations become errors that say what to do next, with the operations' codes.
 */
export async function withSchedules<T>(appPath: string, io: Io, json: boolean, work: (context: ScheduleContext) => Promise<T>): Promise<T> {
  const config = loadConfig(io.env);
  const app = await loadApp(appPath, io.cwd);
  const store = new Store({ ...storeOptions(config, io.env, 'nightshift cli'), maxConnections: 2 });
  const redis = new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 5_000, commandTimeout: 5_000, connectionName: 'nightshift-cli' });
  // Reported by the command that failed; the client's own line would only repeat it.
  redis.on('error', () => {});
  const broker = lazyBrokerClient(config, app, io, json);
  try {
    const schedules = new ScheduleOperations({ app, store, redis, client: broker.client, prefix: config.prefix });
    return await work({ schedules, app, appPath });
  } catch (error) {
    throw explained(error, appPath, config);
  } finally {
    await broker.close();
    await store.close();
    redis.disconnect();
  }
}

/** A broker client of the app that connects when it first sends (run now, backfill), saying so if RabbitMQ is slow. */
function lazyBrokerClient(config: NightshiftConfig, app: AnyApp, io: Io, json: boolean): { client: Client<AnyApp>; close(): Promise<void> } {
  let connecting: Promise<Client<AnyApp>> | undefined;
  let connected: Client<AnyApp> | undefined;
  const connect = async () => (connected = await (connecting ??= waitForBroker(createClient(config, { app, name: 'cli', failWhenRefused: true }), config, io, json)));
  const client = {
    get broker() {
      if (connected === undefined) throw new Error('the broker is connected by the first send');
      return connected.broker;
    },
    send: (async (...args: Parameters<Client<AnyApp>['send']>) => (await connect()).send(...args)) as Client<AnyApp>['send'],
    close: async () => (await connecting?.catch(() => undefined))?.close(),
  };
  return { client, close: client.close };
}

/** An operation's refusal as a usage error with a hint; an unreachable Redis as a failure naming it; anything else as it is. */
function explained(error: unknown, appPath: string, config: NightshiftConfig): unknown {
  const list = `nightshift schedule list --app ${appPath}`;
  if (error instanceof ScheduleNotFoundError) return new UsageError(error.message, `${list} shows the entries there are`, { code: error.code, cause: error });
  if (error instanceof ScheduleConflictError) {
    return new UsageError(error.message, `nothing was changed; nightshift schedule show ${error.entry} --app ${appPath} shows it as it is now (version ${error.currentVersion}): make your change again if it still applies`, { code: error.code, cause: error });
  }
  if (error instanceof ScheduleNameTakenError) return new UsageError(error.message, `give the new entry another --name (${list} shows the names taken)`, { code: error.code, cause: error });
  if (error instanceof CodeEntryReadOnlyError) return new UsageError(error.message, `edit the schedule in ${appPath} and redeploy; or pause it: nightshift schedule pause ${error.entry} --app ${appPath} --note "why"`, { code: error.code, cause: error });
  if (error instanceof ConfigError && error.field !== undefined) {
    const option = optionOf(error.field);
    return new UsageError(error.message, option === undefined ? undefined : `fix ${option}; nothing was stored`, { code: error.code, cause: error });
  }
  if (error instanceof BadParameterError && ['from', 'to', 'ratePerSecond', 'version'].includes(error.parameter)) {
    return new UsageError(error.message, `fix --${error.parameter === 'ratePerSecond' ? 'rate' : error.parameter}`, { code: error.code, cause: error });
  }
  if (isRedisDown(error)) {
    return new CommandFailure(`Redis at ${redactUrl(config.redisUrl)} is not reachable: run now and backfill claim each fire time there, as beat does, so that none is sent twice`, {
      code: 'E_REDIS_UNAVAILABLE', hint: 'start it, or set NIGHTSHIFT_REDIS_URL; nothing was sent', cause: error,
    });
  }
  return error;
}

/** An error of a Redis command that could not reach the server (ioredis gives them no class of their own). */
function isRedisDown(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof NightshiftError) return false;
  return /ECONNREFUSED|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|Connection is closed|max retries per request|Command timed out/i.test(error.message);
}
