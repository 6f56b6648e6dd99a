import pg from 'pg';
import { parsers, redactUrl, settingText, type NightshiftConfig } from '@nightshift/core';
import { isTransientStoreError, StoreUnavailableError } from './errors.ts';
import { DATABASE_SCHEMA } from './settings.ts';

/** How to reach the store. `storeOptions(config)` builds it from the environment. */
export interface StoreOptions {
  /** PostgreSQL URL (`postgres://user:pw@host:5432/db`). Required. */
  readonly url: string;
  /** The schema holding Nightshift's tables; one per installation, or per test. Default: `nightshift`. */
  readonly schema?: string;
  /** Connections in the pool. Default: `5`. */
  readonly maxConnections?: number;
  /** How long opening a connection may take before it fails. Default: `5000` ms. */
  readonly connectTimeoutMs?: number;
  /** How long one statement may run (client side, so a half-open socket cannot hang a caller). Default: `30000` ms. */
  readonly queryTimeoutMs?: number;
  /** Shown in `pg_stat_activity`. Default: `nightshift`. */
  readonly applicationName?: string;
}

/** The schema when none is configured. */
export const DEFAULT_SCHEMA = DATABASE_SCHEMA.read(undefined);

/**
 * Store options from the configuration: `NIGHTSHIFT_DATABASE_URL`, and `NIGHTSHIFT_DATABASE_SCHEMA` from `env`.
 * @throws ConfigError naming `NIGHTSHIFT_DATABASE_SCHEMA` when it is not a schema name.
 */
export function storeOptions(config: NightshiftConfig, env: Readonly<Record<string, string | undefined>> = process.env, applicationName = 'nightshift'): StoreOptions {
  return { url: config.databaseUrl, schema: DATABASE_SCHEMA.read(settingText(DATABASE_SCHEMA, env)), applicationName };
}

/** A client that is inside a transaction, or the pool: anything that runs a statement. */
export type Queryable = Pick<pg.PoolClient, 'query'>;

/**
 * A pool of connections to the PostgreSQL holding Nightshift's tables, all in one schema. Every query
 * names its tables through `table()`, so several stores (tests, apps) can share one database.
 */
export class Store {
  readonly schema: string;
  readonly url: string;
  readonly pool: pg.Pool;
  readonly #connection: pg.ClientConfig;
  readonly #closing = new Set<() => Promise<void>>();
  #closed = false;

  /** @throws ConfigError when the schema name is not a plain identifier. */
  constructor(options: StoreOptions) {
    this.schema = parsers.schemaName(options.schema ?? DEFAULT_SCHEMA, DATABASE_SCHEMA.name);
    this.url = options.url;
    this.#connection = {
      connectionString: options.url,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
      query_timeout: options.queryTimeoutMs ?? 30_000,
      application_name: options.applicationName ?? 'nightshift',
      keepAlive: true,
    };
    this.pool = new pg.Pool({ ...this.#connection, max: options.maxConnections ?? 5 });
    // An idle connection that dies (server restart, network) is dropped from the pool; the next query opens another.
    this.pool.on('error', () => {});
  }

  /** The quoted, schema-qualified name of a table: `"nightshift"."dead_letters"`. */
  table(name: string): string {
    return `${quoteIdent(this.schema)}.${quoteIdent(name)}`;
  }

  /** Runs `work` in a transaction on one connection; commits when it resolves, rolls back when it throws. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#connect();
    let broken = false;
    // pg-pool listens for a connection's errors only while it is idle: one that dies while checked out (PostgreSQL
    // restarted or failed over mid-transaction) would emit 'error' to nobody, an uncaught exception that ends the
    // process. Its pending or next query fails with the same error, which is what the caller hears.
    const heard = () => { broken = true; };
    client.on('error', heard);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      broken ||= isTransientStoreError(error);
      await client.query('ROLLBACK').catch(() => { broken = true; });
      throw this.explain(error);
    } finally {
      client.removeListener('error', heard);
      client.release(broken);
    }
  }

  /** Runs one statement on the pool. */
  async query<R extends pg.QueryResultRow>(text: string, values: readonly unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, [...values]);
    } catch (error) {
      throw this.explain(error);
    }
  }

  /**
   * A connection of its own, outside the pool, with the pool's settings (not connected yet): for a session that
   * holds its connection, such as `LISTEN`. The caller connects it, handles its `error` event, and ends it.
   */
  dedicatedClient(applicationName?: string): pg.Client {
    return new pg.Client({ ...this.#connection, ...(applicationName !== undefined ? { application_name: applicationName } : {}) });
  }

  /** Answers whether PostgreSQL takes a statement now. Never throws. */
  async ping(): Promise<boolean> {
    try {
      await this.pool.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes every connection, those of `onClose`'s holders too. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.pool.end().catch(() => {}), ...[...this.#closing].map(async (close) => close().catch(() => {}))]);
  }

  /**
   * For a part that holds a connection of its own (`dedicatedClient`) for as long as the store is open: `close` is
   * called when the store closes. Returns a function that forgets it.
   */
  onClose(close: () => Promise<void>): () => void {
    this.#closing.add(close);
    return () => { this.#closing.delete(close); };
  }

  /** Connection trouble becomes a `StoreUnavailableError` that names the database and says what to do. */
  explain(error: unknown): unknown {
    if (error instanceof StoreUnavailableError || !isTransientStoreError(error)) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new StoreUnavailableError(`PostgreSQL at ${redactUrl(this.url)} is not reachable (${reason}); is it running? (start it, or set NIGHTSHIFT_DATABASE_URL)`, { cause: error });
  }

  async #connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw this.explain(error);
    }
  }
}

/** Quotes an identifier for SQL: `a-b` → `"a-b"`. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
