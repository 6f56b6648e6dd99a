import { Redis } from 'ioredis';
import { loadConfig, parseBrokerUrls, redactUrl, type NightshiftConfig } from '@nightshift/core';
import { Broker, brokerOptions } from '@nightshift/broker';
import { quoteIdent, Store, storeOptions } from '@nightshift/store';
import { CommandFailure, defineCommand, UsageError, type Io } from '../command.ts';

const usage = `Usage: nightshift purge --prefix P [--database] [--yes] [--management-url URL]

Deletes everything an installation under the prefix P left behind: every RabbitMQ queue and exchange named
P.… (work queues, the retry ladder, dead letters, events, control; their messages with them) and every Redis
key P:… (beat's state, the workers' completion records). With --database, also the rows of every table of
the store's schema (NIGHTSHIFT_DATABASE_SCHEMA); the tables, their migrations and beat's change marks stay.
It lists what it will delete first, then asks you to type the prefix; --yes deletes without asking (scripts).
RabbitMQ's objects are listed through its management API (AMQP cannot list them): by default the AMQP host
on port 15672 with the AMQP credentials.

Examples:
  nightshift purge --prefix staging
  nightshift purge --prefix ci-1234 --database --yes --json`;

const options = {
  prefix: { type: 'string' },
  database: { type: 'boolean', default: false },
  yes: { type: 'boolean', default: false },
  'management-url': { type: 'string' },
} as const;

/** What a purge deletes, as listed before deleting it. */
export interface PurgePlan {
  readonly prefix: string;
  readonly queues: readonly { name: string; messages: number }[];
  readonly exchanges: readonly string[];
  readonly redisKeys: number;
  /** With --database: the schema and each table's row count. */
  readonly database?: { schema: string; tables: readonly { name: string; rows: number }[] };
}

export const purge = defineCommand({
  name: 'purge',
  summary: 'delete every queue, exchange, Redis key (and with --database, store row) of a prefix',
  usage,
  options,
  async run({ values }, io) {
    const prefix = values.prefix;
    if (prefix === undefined || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(prefix)) {
      throw new UsageError(prefix === undefined ? '"nightshift purge" needs --prefix' : `--prefix ${JSON.stringify(prefix)} is not a prefix`, 'e.g. nightshift purge --prefix staging (letters, digits, ".", "_", "-")');
    }
    const config = loadConfig(io.env);
    const management = managementApi(values['management-url'] ?? io.env.NIGHTSHIFT_RABBITMQ_MANAGEMENT_URL, config.amqpUrl);
    const plan = await planPurge(prefix, config, management, values.database ? io : undefined);
    if (values.json) io.stdout.write(`${JSON.stringify({ plan })}\n`);
    else io.stdout.write(describePlan(plan, config));
    if (!values.yes) {
      const answer = await io.ask(`Type the prefix (${prefix}) to delete all of this, anything else to stop: `);
      if (answer === undefined) throw new UsageError('nothing was deleted: no terminal to confirm on', 'add --yes to delete without asking');
      if (answer.trim() !== prefix) {
        io.stderr.write('nothing was deleted\n');
        return 1;
      }
    }
    for (const queue of plan.queues) await management.call('DELETE', `/queues/${management.vhost}/${encodeURIComponent(queue.name)}`);
    for (const exchange of plan.exchanges) await management.call('DELETE', `/exchanges/${management.vhost}/${encodeURIComponent(exchange)}`);
    const keys = await deleteRedisKeys(config.redisUrl, prefix);
    if (plan.database) await truncate(config, io, plan.database.tables.map((t) => t.name));
    const result = { queues: plan.queues.length, exchanges: plan.exchanges.length, redisKeys: keys, tables: plan.database?.tables.length ?? 0 };
    io.stdout.write(values.json
      ? `${JSON.stringify({ deleted: result })}\n`
      : `deleted ${result.queues} queues, ${result.exchanges} exchanges, ${result.redisKeys} Redis keys${plan.database ? ` and the rows of ${result.tables} tables` : ''}\n`);
    return 0;
  },
});

interface ManagementApi {
  readonly vhost: string;
  call(method: 'GET' | 'DELETE', path: string): Promise<unknown>;
}

function managementApi(configured: string | undefined, amqpUrl: string): ManagementApi {
  const amqp = new URL(parseBrokerUrls(amqpUrl)[0] as string);
  const base = new URL(configured ?? `${amqp.protocol === 'amqps:' ? 'https' : 'http'}://${amqp.hostname}:15672`);
  const user = decodeURIComponent(base.username || amqp.username || 'guest');
  const password = decodeURIComponent(base.password || amqp.password || 'guest');
  base.username = '';
  base.password = '';
  const vhost = encodeURIComponent(amqp.pathname.length > 1 ? decodeURIComponent(amqp.pathname.slice(1)) : '/');
  const root = `${base.href.replace(/\/$/, '')}/api`;
  const authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return {
    vhost,
    async call(method, path) {
      let response: Response;
      try {
        response = await fetch(`${root}${path}`, { method, headers: { authorization }, signal: AbortSignal.timeout(10_000) });
      } catch (error) {
        throw new CommandFailure(`cannot reach RabbitMQ's management API at ${redactUrl(root)}: ${(error as Error).message} (enable the plugin, or give --management-url)`, { code: 'E_BROKER_UNAVAILABLE', cause: error });
      }
      if (!response.ok && !(method === 'DELETE' && response.status === 404)) {
        throw new CommandFailure(`RabbitMQ's management API answered ${method} ${path.split('?')[0]}: HTTP ${response.status}`, { code: 'E_BROKER_UNAVAILABLE' });
      }
      return method === 'GET' ? response.json() : undefined;
    },
  };
}

async function planPurge(prefix: string, config: NightshiftConfig, management: ManagementApi, databaseIo: Io | undefined): Promise<PurgePlan> {
  const ours = (name: string) => name.startsWith(`${prefix}.`);
  const queues = (await management.call('GET', `/queues/${management.vhost}?columns=name`)) as { name: string }[];
  const exchanges = (await management.call('GET', `/exchanges/${management.vhost}?columns=name`)) as { name: string }[];
  const redisKeys = (await scanRedis(config.redisUrl, prefix, false)).length;
  const plan: PurgePlan = {
    prefix,
    queues: await messageCounts(config, queues.map((q) => q.name).filter(ours).sort()),
    exchanges: exchanges.filter((e) => ours(e.name)).map((e) => e.name).sort(),
    redisKeys,
  };
  if (databaseIo === undefined) return plan;
  const store = new Store(storeOptions(config, databaseIo.env, 'nightshift cli'));
  try {
    // The change marks stay with the migrations: beat takes an equal mark for "nothing committed since it read ahead",
    // which holds only while the counts never go back (the truncation of the schedules moves them on instead).
    const { rows } = await store.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'
         AND table_name NOT IN ('schema_migrations', 'schedule_change_marks') ORDER BY table_name`, [store.schema]);
    const tables = [];
    for (const { name } of rows) {
      const counted = await store.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteIdent(store.schema)}.${quoteIdent(name)}`);
      tables.push({ name, rows: Number(counted.rows[0]?.n ?? 0) });
    }
    return { ...plan, database: { schema: store.schema, tables } };
  } finally {
    await store.close();
  }
}

/** Each queue's messages, read over AMQP: the management API's counts lag by its statistics interval. */
async function messageCounts(config: NightshiftConfig, names: readonly string[]): Promise<{ name: string; messages: number }[]> {
  if (names.length === 0) return [];
  const broker = await Broker.connect({ ...brokerOptions(config, 'nightshift cli purge'), declareTopology: false, failWhenRefused: true });
  try {
    const counted = [];
    for (const name of names) {
      const messages = await broker.withChannel((channel) => channel.checkQueue(name)).then((info) => info.messageCount, () => 0);
      counted.push({ name, messages });
    }
    return counted;
  } finally {
    await broker.close();
  }
}

function describePlan(plan: PurgePlan, config: NightshiftConfig): string {
  const lines = [`nightshift purge --prefix ${plan.prefix} will delete:`];
  const messages = plan.queues.reduce((sum, q) => sum + q.messages, 0);
  lines.push(`  RabbitMQ ${redactUrl(config.amqpUrl)}: ${plan.queues.length} queues (${messages} messages), ${plan.exchanges.length} exchanges`);
  for (const q of plan.queues) lines.push(`    queue ${q.name} (${q.messages} messages)`);
  for (const e of plan.exchanges) lines.push(`    exchange ${e}`);
  lines.push(`  Redis ${redactUrl(config.redisUrl)}: ${plan.redisKeys} keys ${plan.prefix}:*`);
  if (plan.database) {
    lines.push(`  PostgreSQL ${redactUrl(config.databaseUrl)}, schema "${plan.database.schema}": the rows of ${plan.database.tables.length} tables (the tables stay)`);
    for (const t of plan.database.tables) lines.push(`    ${t.name} (${t.rows} rows)`);
  }
  return `${lines.join('\n')}\n`;
}

async function scanRedis(url: string, prefix: string, remove: boolean): Promise<string[]> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, enableReadyCheck: false, connectTimeout: 5_000, commandTimeout: 5_000 });
  redis.on('error', () => {});
  const found: string[] = [];
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
      if (remove && keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
    return found;
  } catch (error) {
    throw new CommandFailure(`cannot read Redis at ${redactUrl(url)}: ${(error as Error).message}`, { code: 'E_REDIS_UNAVAILABLE', cause: error });
  } finally {
    redis.disconnect();
  }
}

async function deleteRedisKeys(url: string, prefix: string): Promise<number> {
  return (await scanRedis(url, prefix, true)).length;
}

async function truncate(config: NightshiftConfig, io: Io, tables: readonly string[]): Promise<void> {
  if (tables.length === 0) return;
  const store = new Store(storeOptions(config, io.env, 'nightshift cli'));
  try {
    await store.query(`TRUNCATE ${tables.map((t) => `${quoteIdent(store.schema)}.${quoteIdent(t)}`).join(', ')} RESTART IDENTITY CASCADE`);
  } finally {
    await store.close();
  }
}
