import type { FastifyInstance } from 'fastify';
import type { AnyApp, Logger } from '@nightshift/core';
import type { Meter } from '@nightshift/telemetry';
import type { HealthApiConfig } from './config.ts';
import { startControlRoom, type ControlRoom } from './control-room.ts';
import { buildServer } from './http/server.ts';

export interface HealthApiOptions {
  readonly config: HealthApiConfig;
  readonly logger: Logger;
  readonly meter: Meter;
  /** The app of `--app`. Default: none (no sending by name, no schedule). */
  readonly app?: AnyApp;
  /** Listen on `config.httpHost:httpPort`. Default: `true`; tests use `inject()` instead. */
  readonly listen?: boolean;
  readonly signal?: AbortSignal;
}

/** A running health-api. */
export interface HealthApi {
  readonly room: ControlRoom;
  readonly server: FastifyInstance;
  /** Where it listens, e.g. `http://127.0.0.1:5555`; undefined without `listen`. */
  readonly url: string | undefined;
  /** Closes HTTP (open event streams too), then the recorder and the connections. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the control room and its HTTP server; warns when no credentials are configured (it then listens on loopback only). */
export async function startHealthApi(options: HealthApiOptions): Promise<HealthApi> {
  const { config, logger } = options;
  const room = await startControlRoom(options);
  let server: FastifyInstance;
  try {
    server = buildServer(room);
  } catch (error) {
    await room.stop();
    throw error;
  }
  let url: string | undefined;
  if (options.listen !== false) {
    let host = config.httpHost;
    if (config.users.size === 0 && config.apiToken === undefined) {
      if (!/^(127\.|::1$|localhost$)/.test(host)) host = '127.0.0.1';
      logger.warn({ host }, 'no credentials configured (NIGHTSHIFT_DASHBOARD_USERS or NIGHTSHIFT_API_TOKEN): the dashboard and API are open, so the health-api listens on loopback only');
    }
    try {
      url = await server.listen({ host, port: config.httpPort });
    } catch (error) {
      await room.stop();
      throw error;
    }
  } else {
    await server.ready();
  }
  let stopping: Promise<void> | undefined;
  const stop = async () => {
    server.server.closeAllConnections?.();
    await server.close();
    await room.stop();
  };
  return { room, server, url, stop: () => (stopping ??= stop()) };
}
