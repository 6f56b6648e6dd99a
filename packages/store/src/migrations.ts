import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { SchemaNotReadyError } from './errors.ts';
import { quoteIdent, type Store } from './store.ts';

/** One versioned change of the schema: `migrations/<version>-<name>.sql`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  /** sha256 of the SQL: an applied migration whose file changed afterwards is refused. */
  readonly checksum: string;
}

export interface MigrationResult {
  readonly schema: string;
  /** Migrations this call applied, oldest first; empty when the schema was up to date. */
  readonly applied: readonly Pick<Migration, 'version' | 'name'>[];
  /** The schema's version afterwards. */
  readonly version: number;
}

const MIGRATIONS_DIR = new URL('../migrations/', import.meta.url);
const FILE = /^(\d{3})-([a-z0-9-]+)\.sql$/;
const LOCK_NAMESPACE = 'nightshift:migrate';

/** The migrations shipped with this package, oldest first. */
export function loadMigrations(): readonly Migration[] {
  const migrations = readdirSync(MIGRATIONS_DIR).filter((file) => file.endsWith('.sql')).sort().map((file) => {
    const match = FILE.exec(file);
    if (!match) throw new Error(`store migrations: ${file} is not named <3-digit version>-<name>.sql`);
    const sql = readFileSync(new URL(file, MIGRATIONS_DIR), 'utf8');
    return { version: Number(match[1]), name: match[2] as string, sql, checksum: createHash('sha256').update(sql).digest('hex') };
  });
  migrations.forEach((migration, index) => {
    if (migration.version !== index + 1) throw new Error(`store migrations: expected version ${index + 1}, found ${migration.version} (${migration.name})`);
  });
  return Object.freeze(migrations);
}

/**
 * Brings the store's schema up to date, in one transaction under an advisory lock keyed on the schema:
 * several processes starting together apply each migration once (the others wait, then find nothing to do).
 * @throws SchemaNotReadyError when the schema was changed by a newer Nightshift, or an applied migration's file changed.
 */
export async function migrate(store: Store, migrations: readonly Migration[] = loadMigrations()): Promise<MigrationResult> {
  const history = store.table('schema_migrations');
  return store.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [LOCK_NAMESPACE, store.schema]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(store.schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${history} (
      version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ version: number; name: string; checksum: string }>(`SELECT version, name, checksum FROM ${history} ORDER BY version`);
    checkHistory(store.schema, rows, migrations);
    const done = new Set(rows.map((row) => row.version));
    const pending = migrations.filter((migration) => !done.has(migration.version));
    await client.query(`SET LOCAL search_path TO ${quoteIdent(store.schema)}`);
    for (const migration of pending) {
      try {
        await client.query(migration.sql);
      } catch (error) {
        throw new Error(`store migration ${migration.version}-${migration.name} failed in schema "${store.schema}": ${(error as Error).message}`, { cause: error });
      }
      await client.query(`INSERT INTO ${history} (version, name, checksum) VALUES ($1, $2, $3)`, [migration.version, migration.name, migration.checksum]);
    }
    return {
      schema: store.schema,
      applied: pending.map(({ version, name }) => ({ version, name })),
      version: Math.max(0, ...migrations.map((m) => m.version), ...rows.map((r) => r.version)),
    };
  });
}

/**
 * Resolves when the schema is at this code's version.
 * @throws SchemaNotReadyError saying to run `nightshift db migrate` when it is missing or behind.
 */
export async function assertMigrated(store: Store, migrations: readonly Migration[] = loadMigrations()): Promise<void> {
  const latest = migrations.at(-1)?.version ?? 0;
  const exists = await store.query<{ present: boolean }>('SELECT to_regclass($1) IS NOT NULL AS present', [store.table('schema_migrations')]);
  const current = exists.rows[0]?.present
    ? Number((await store.query<{ version: number | null }>(`SELECT max(version) AS version FROM ${store.table('schema_migrations')}`)).rows[0]?.version ?? 0)
    : 0;
  if (current < latest) {
    const state = current === 0 ? 'has no Nightshift tables yet' : `is at version ${current}, this Nightshift needs ${latest}`;
    throw new SchemaNotReadyError(store.schema, `the store's schema "${store.schema}" ${state}: run "nightshift db migrate" (or start the alerter, which migrates)`);
  }
}

function checkHistory(schema: string, rows: readonly { version: number; name: string; checksum: string }[], migrations: readonly Migration[]): void {
  for (const row of rows) {
    const known = migrations.find((m) => m.version === row.version);
    if (known === undefined) {
      throw new SchemaNotReadyError(schema, `schema "${schema}" has migration ${row.version}-${row.name}, which this Nightshift does not know: it was migrated by a newer version; upgrade this one`);
    }
    if (known.checksum !== row.checksum) {
      throw new SchemaNotReadyError(schema, `migration ${row.version}-${row.name} was changed after it was applied to schema "${schema}": add a new migration instead of editing an applied one`);
    }
  }
}
